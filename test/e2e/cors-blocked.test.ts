// Issue 17, point 7, in Chromium: a page whose origin the broker's CORS allow-list does not name
// gets `cors_blocked` (the broker answered, the browser hid it), not `broker_unreachable`, and the
// broker logs the refused origin once. The page is served from http://localhost:<port>, another
// site than the brokers on 127.0.0.1, as a single-page app on its own domain would be.
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { fakeVendor } from '../helpers/fake-vendor.js';
import { deadUrl } from './web-server.js';
import { servePageBundle, type PageBundleServer } from './page-bundle.js';

declare const window: any;

const PAGE_ENTRY = fileURLToPath(new URL('./cors-page.ts', import.meta.url));

let browser: Browser;
let pageServer: PageBundleServer | undefined;
let pageOrigin: string;
let page: Page;
let refusing: TestBroker;
let allowing: TestBroker;

beforeAll(async () => {
  pageServer = await servePageBundle(PAGE_ENTRY);
  pageOrigin = `http://localhost:${pageServer.port}`;
  [refusing, allowing, browser] = await Promise.all([
    startBroker({ vendor: fakeVendor(), corsOrigins: ['https://app.example.com'] }),
    startBroker({ vendor: fakeVendor(), corsOrigins: [pageOrigin] }),
    chromium.launch(chromiumLaunchOptions()),
  ]);
  page = await (await browser.newContext()).newPage();
  await page.goto(`${pageOrigin}/`);
  await page.waitForFunction(() => window.khCors !== undefined);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await refusing?.close();
  await allowing?.close();
  pageServer?.close();
});

const ask = (brokerUrl: string, token: string, retries = 0) =>
  page.evaluate(([u, t, r]) => window.khCors.credentials(u, t, r), [brokerUrl, token, retries] as const);

describe('a page on an origin the broker does not allow', () => {
  test('gets cors_blocked naming its origin and KEYHOLE_CORS_ORIGINS; the broker logs the origin once', async () => {
    const token = await refusing.token(freshSubject());
    const outcome = await ask(refusing.url, token, 2);
    expect(outcome).toEqual({
      ok: false,
      code: 'cors_blocked',
      status: 0,
      message:
        `the Keyhole broker at ${refusing.url} answered, but the browser blocked its answers to this page: ` +
        `add this page's origin, ${pageOrigin}, to the broker's KEYHOLE_CORS_ORIGINS (options.corsOrigins)`,
    });
    // Three attempts (preflight each), one line.
    const refused = refusing.logs.filter((l) => l.event === 'cors.refused');
    expect(refused.map((l) => l.origin)).toEqual([pageOrigin]);
  });

  test('a broker that is not there is still broker_unreachable', async () => {
    const outcome = await ask(await deadUrl(), 'token');
    expect(outcome).toMatchObject({ ok: false, code: 'broker_unreachable', status: 0 });
  });

  test('once the origin is allowed, the same page gets credentials', async () => {
    expect(await ask(allowing.url, await allowing.token(freshSubject()))).toEqual({ ok: true });
    expect(allowing.logs.filter((l) => l.event === 'cors.refused')).toEqual([]);
  });
});
