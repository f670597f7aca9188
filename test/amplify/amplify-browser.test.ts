// Acceptance 2: the same Amplify Storage flow from a page in headless Chromium (Debian's
// /usr/bin/chromium via playwright-core), against RGW's own HTTPS endpoint with virtual-hosted
// addressing (Chromium resolves *.localhost itself). The page is bundled with esbuild.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { chromiumLaunchOptions } from '../helpers/chromium.js';
import { stack } from '../helpers/stack.js';
import { amplifyGrant } from './amplify-grant.js';
import { localSpkiHash } from './tls-endpoint.js';

let server: Server;
let origin: string;
let broker: TestBroker;
let browser: Browser;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const js = bundle.outputFiles[0]!.text;
  server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (req.url === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>keyhole amplify</title><script type="module" src="/page.js"></script>');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  broker = await startBroker({ grants: [amplifyGrant()], corsOrigins: [origin] });
  browser = await chromium.launch(
    chromiumLaunchOptions([`--ignore-certificate-errors-spki-list=${localSpkiHash(stack().caCertFile)}`]),
  );
});
afterAll(async () => {
  await browser?.close();
  await broker?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe('Amplify Storage in headless Chromium with keyhole/amplify', () => {
  it('uploads with progress to 100%, downloads identical bytes, lists, removes; another identity is denied', async () => {
    const s = stack();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(origin + '/');
    await page.waitForFunction(() => typeof (globalThis as any).runFlow === 'function');
    const [a, b] = [freshSubject('webA'), freshSubject('webB')];
    const input = {
      brokerUrl: broker.url,
      bucket: s.bucket,
      region: s.region,
      customEndpoint: `localhost:${new URL(s.s3TlsEndpoint).port}`,
      tokenA: await broker.token(a),
      tokenB: await broker.token(b),
    };
    const out = await page.evaluate((i) => (globalThis as any).runFlow(i), input);
    expect(pageErrors).toEqual([]);
    expect(out.identityA).toBe(`dev-${a}`);
    expect(out.smallIdentical).toBe(true);
    expect(out.bigIdentical).toBe(true);
    // Progress reaches 100%: the last event reports every byte of the known total.
    expect(out.progress.small.last).toEqual([64 * 1024, 64 * 1024]);
    expect(out.progress.big.last).toEqual([12 * 1024 * 1024, 12 * 1024 * 1024]);
    expect(out.progress.big.events).toBeGreaterThanOrEqual(3);
    expect(out.progress.monotonic).toBe(true);
    expect(out.listed).toEqual([
      [`private/dev-${a}/big.bin`, 12 * 1024 * 1024],
      [`private/dev-${a}/small.bin`, 64 * 1024],
    ]);
    expect(out.bReadsAPrivate).toBe('AccessDenied');
    expect(out.bListsAPrivate).toBe('AccessDenied');
    expect(out.listedAfterRemove).toBe(0);
  });
});
