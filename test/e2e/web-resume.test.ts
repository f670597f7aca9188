// Issue 16, point 2, in Chromium against a real broker and the local RGW: a 200 MiB upload survives
// a reload (the page lists it under "Unfinished uploads"; choosing the same file sends only the
// parts S3 lacks, progress starting from what was sent), a different file is refused, "Discard"
// aborts the multipart upload, and Pause/Resume stop and restart a running upload.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { devPrefix, freshSubject } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { openUploads, partsOnS3, sha256, until } from '../helpers/multipart.js';
import { startWebRig, type WebRig, type WebServer } from './web-server.js';

// Callbacks given to page.evaluate run in the browser; this Node test program has no DOM types.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;

const MiB = 1024 * 1024;
const s3 = ownerS3();
const { bucket, s3Endpoint } = stack();

let rig: WebRig;
let server: WebServer;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyhole-web-resume-'));
  rig = await startWebRig();
  ({ server, browser } = rig);
}, 120_000);

afterAll(async () => {
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** UploadPart requests the page sends to S3, with their part numbers. */
function partRequests(page: Page): { parts: number[] } {
  const seen = { parts: [] as number[] };
  const origin = new URL(s3Endpoint).origin;
  page.on('request', (req: Request) => {
    const url = new URL(req.url());
    if (url.origin === origin && req.method() === 'PUT' && url.searchParams.has('partNumber')) {
      seen.parts.push(Number(url.searchParams.get('partNumber')));
    }
  });
  return seen;
}

async function signedInPage(): Promise<{ context: BrowserContext; page: Page; user: string }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const user = freshSubject('resume');
  await page.goto(server.url);
  await page.fill('#dev-name', user);
  await page.click('form[aria-label="Dev login"] button[type=submit]');
  await page.waitForSelector('[data-testid=prefix]');
  return { context, page, user };
}

/** Slows the page's uploads, so a reload lands mid-way on any machine. */
async function throttle(context: BrowserContext, page: Page, bytesPerSecond: number) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

/** Records the first progress value the upload row of `name` shows once it appears. */
async function firstProgress(page: Page, name: string) {
  await page.evaluate((n) => {
    window.__first = undefined;
    const look = () => {
      const bar = document.querySelector(`ul[aria-label="Uploads"] li.upload[data-name="${n}"] [role=progressbar]`);
      if (bar && window.__first === undefined) window.__first = Number(bar.getAttribute('aria-valuenow'));
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true });
  }, name);
}

describe('uploads that survive a reload', () => {
  test('200 MiB: reload mid-way, choose the file again: stored byte for byte, under 60% sent after the reload', async () => {
    const { context, page, user } = await signedInPage();
    const prefix = devPrefix(user);
    const size = 200 * MiB;
    const bytes = randomBytes(size);
    const path = join(dir, 'big.bin');
    writeFileSync(path, bytes);
    const cdp = await throttle(context, page, 40 * MiB);
    await page.setInputFiles('#file-input', path);
    // 8 MiB parts over plain HTTP: 25 parts. Reload once S3 holds about half of them (12): at most 13 parts, 52%, are left.
    await until(async () => (await partsOnS3(prefix)) >= 12, '12 parts on S3');
    await page.reload();
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const sent = partRequests(page);

    // Listed after the reload, with what was sent; a different file is refused.
    const row = '[data-testid=unfinished] li[data-key="big.bin"]';
    await page.waitForSelector(row);
    const listed = (await page.textContent(`${row} .size`)) ?? '';
    expect(listed).toMatch(/^[\d.]+ MiB of 200 MiB sent$/);
    const other = join(dir, 'other.bin');
    writeFileSync(other, randomBytes(1024));
    await page.setInputFiles(`${row} input[type=file]`, other);
    await page.waitForSelector(`${row} .row-error:not([hidden])`);
    expect(await page.textContent(`${row} .row-error`)).toMatch(
      /^That is not the same file: choose "big\.bin" \(200 MiB, modified /,
    );
    expect(sent.parts).toEqual([]);

    const done = await partsOnS3(prefix);
    await firstProgress(page, 'big.bin');
    await page.setInputFiles(`${row} input[type=file]`, path);
    await page.waitForSelector('ul[aria-label="Uploads"] li.upload[data-name="big.bin"][data-state=done]', {
      timeout: 120_000,
    });
    expect(await page.isHidden('[data-testid=unfinished]')).toBe(true);

    // Only the missing parts went up, each 8 MiB but the last: well under 60% of the file.
    const partSize = 8 * MiB;
    const bytesSent = sent.parts.reduce((sum, n) => sum + (n === 25 ? size - 24 * partSize : partSize), 0);
    expect(Math.min(...sent.parts)).toBeGreaterThan(0);
    expect(new Set(sent.parts).size).toBe(sent.parts.length);
    expect(sent.parts.length).toBeLessThanOrEqual(25 - done);
    expect(bytesSent).toBeLessThan(0.6 * size);
    // Progress picked up where the page's record was, not at 0. The record can be behind S3 by the
    // parts in flight at the reload (queue of 4): a part whose bytes were all sent completes on S3
    // without the page hearing of it, and ListParts (not the record) decides what is sent again.
    const recordedParts = Math.round((Number(/^([\d.]+) MiB/.exec(listed)![1]) * MiB) / partSize);
    expect(recordedParts).toBeGreaterThanOrEqual(Math.max(1, done - 4));
    expect(recordedParts).toBeLessThanOrEqual(done);
    expect(await page.evaluate(() => window.__first)).toBeGreaterThanOrEqual(
      Math.floor((recordedParts * partSize * 100) / size) - 1,
    );

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}big.bin` }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(bytes));
    expect(await openUploads(prefix)).toEqual([]);
    // The record is gone: another reload lists nothing.
    await page.reload();
    await page.waitForSelector('[data-testid=prefix]');
    await page.waitForSelector('[data-testid=files] li[data-key]');
    expect(await page.isHidden('[data-testid=unfinished]')).toBe(true);
    await context.close();
  });

  test('Discard aborts the unfinished upload on S3; Pause stops sending parts and Resume finishes', async () => {
    const { context, page, user } = await signedInPage();
    const prefix = devPrefix(user);
    const bytes = randomBytes(48 * MiB);
    const path = join(dir, 'drop.bin');
    writeFileSync(path, bytes);
    const cdp = await throttle(context, page, 16 * MiB);
    await page.setInputFiles('#file-input', path);
    await until(async () => (await partsOnS3(prefix)) >= 1, 'a part on S3');
    await page.reload();
    const row = '[data-testid=unfinished] li[data-key="drop.bin"]';
    await page.click(`${row} button:has-text("Discard")`);
    await page.waitForSelector(row, { state: 'detached' });
    expect(await openUploads(prefix)).toEqual([]);

    // Pause and resume a running upload.
    const sent = partRequests(page);
    await page.setInputFiles('#file-input', path);
    const upload = 'ul[aria-label="Uploads"] li.upload[data-name="drop.bin"]';
    await until(async () => sent.parts.length >= 2, 'parts sent');
    await page.click(`${upload} button[data-action=pause]`);
    expect(await page.getAttribute(upload, 'data-state')).toBe('paused');
    expect(await page.textContent(`${upload} button[data-action=resume]`)).toBe('Resume');
    const atPause = sent.parts.length;
    // While paused nothing new is sent (checked over half a second of throttled time).
    await page.waitForTimeout(500);
    expect(sent.parts.length).toBe(atPause);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await page.click(`${upload} button[data-action=resume]`);
    await page.waitForSelector(`${upload}[data-state=done]`, { timeout: 60_000 });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}drop.bin` }));
    expect(sha256(await got.Body!.transformToByteArray())).toBe(sha256(bytes));
    expect(await openUploads(prefix)).toEqual([]);
    await context.close();
  });
});
