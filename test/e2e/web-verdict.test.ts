// Issue 15, point 4, in Chromium against a real broker and the local RGW: with upload rules, the web
// app asks for each upload's verdict and shows a rejection in words on the row and in the banner
// ("rejected: larger than 1 MiB", "rejected: not an image"); an accepted picture is listed as stored.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { devPrefix, freshSubject } from '../helpers/broker.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { pngOfSize } from '../helpers/uploads.js';
import { startWebRig, type WebRig, type WebServer } from './web-server.js';

let rig: WebRig;
let server: WebServer;
let browser: Browser;
const s3 = ownerS3();

beforeAll(async () => {
  rig = await startWebRig(
    {
      grants: [
        {
          bucket: stack().bucket,
          scopes: [
            {
              prefix: 'users/{sub}/',
              access: ['read', 'write', 'list', 'delete'],
              uploads: { maxBytes: 1024 * 1024, contentTypes: ['image/*'] },
            },
          ],
        },
      ],
      uploads: { s3 },
    },
    // What the broker's loader sets when it checks uploads (server/config/broker-app.ts).
    { confirmUploads: true },
  );
  ({ server, browser } = rig);
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

describe('the web app shows the broker’s verdict', () => {
  test('a text file named .png, a picture over the limit, and a picture that passes', async () => {
    const page = await browser.newPage();
    const user = freshSubject('verdict');
    await page.goto(server.url);
    await page.fill('#dev-name', user);
    await page.click('form[aria-label="Dev login"] button[type=submit]');
    await page.waitForSelector('[data-testid=prefix]');
    await page.setInputFiles('#file-input', [
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all\n') },
      { name: 'huge.png', mimeType: 'image/png', buffer: pngOfSize(1024 * 1024 + 1) },
      { name: 'me.png', mimeType: 'image/png', buffer: pngOfSize(2000) },
    ]);
    const row = (name: string) => page.locator(`li.upload[data-name="${name}"]`);
    await page.waitForSelector('li.upload[data-name="notes.png"][data-state=rejected]', { timeout: 30_000 });
    await page.waitForSelector('li.upload[data-name="huge.png"][data-state=rejected]', { timeout: 30_000 });
    await page.waitForSelector('li.upload[data-name="me.png"][data-state=done]', { timeout: 30_000 });
    expect(await row('notes.png').locator('.pct').textContent()).toBe('Rejected');
    expect(await row('notes.png').locator('.row-error').textContent()).toBe('notes.png: rejected: not an image');
    expect(await row('huge.png').locator('.row-error').textContent()).toBe('huge.png: rejected: larger than 1 MiB');
    expect(await page.locator('#banner').textContent()).toMatch(/rejected: (not an image|larger than 1 MiB)/);
    const bucket = stack().bucket;
    const head = (name: string) =>
      s3Outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${devPrefix(user)}${name}` })));
    expect(await head('notes.png')).toBe('404 NotFound');
    expect(await head('huge.png')).toBe('404 NotFound');
    expect(await head('me.png')).toBe('OK');
    await page.screenshot({ path: process.env.KEYHOLE_SCREENSHOT ?? `${rig.dir}/verdict.png` });
    await page.close();
  });
});
