// The web app in Debian's Chromium, driven by playwright-core, against a real broker and the
// local RGW: sign-in, uploads with progress, list, download, delete, cancel, and the messages for
// denied access, an expired session and an unreachable broker.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshSubject } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { deadUrl, startWebBroker, startWebRig, type WebRig, type WebServer } from './web-server.js';

// Callbacks given to page.evaluate run in the browser; this Node test program has no DOM types.
declare const document: any;
declare const sessionStorage: any;
declare const window: any;
declare const MutationObserver: any;

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
// Committed screenshots change only on request; ordinary runs write ignored *.tmp.png files.
const shotPath = (name: string) =>
  join(SHOTS, process.env.UPDATE_SCREENSHOTS === '1' ? `${name}.png` : `${name}.tmp.png`);

const MiB = 1024 * 1024;
const s3 = ownerS3();
const { bucket } = stack();

let rig: WebRig;
let server: WebServer;
let browser: Browser;
let files: string;
const alice = freshSubject('alice');
const bob = freshSubject('bob');
const payloads = {
  'notes.txt': Buffer.from(`hello from ${alice}\n`),
  'photo.jpg': randomBytes(300 * 1024),
  'video.bin': randomBytes(21 * MiB),
};

beforeAll(async () => {
  rig = await startWebRig();
  ({ server, browser } = rig);
  files = mkdtempSync(join(tmpdir(), 'keyhole-e2e-files-'));
  for (const [name, bytes] of Object.entries(payloads)) writeFileSync(join(files, name), bytes);
}, 120_000);

afterAll(async () => {
  await rig?.close();
  if (files) rmSync(files, { recursive: true, force: true });
});

async function newPage(viewport = { width: 1100, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  const page = await context.newPage();
  return { context, page };
}

async function signIn(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill('#dev-name', name);
  await page.click('form[aria-label="Dev login"] button[type=submit]');
  await page.waitForSelector('[data-testid=prefix]');
}

async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

async function openUploads(prefix: string): Promise<number> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

/**
 * Logs, in the page, when each multipart part upload (`PUT …?partNumber=`) starts and how it ends
 * (`load`: sent to the end and answered; `abort` or `error`), and when an upload's Cancel is
 * clicked. One event loop writes the log, so its order is the order things happened in the page.
 */
async function logPartUploads(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const log: string[] = (window.__partLog = []);
    const open = window.XMLHttpRequest.prototype.open;
    window.XMLHttpRequest.prototype.open = function (this: any, method: string, url: string, ...rest: unknown[]) {
      const part = method === 'PUT' ? new URL(String(url)).searchParams.get('partNumber') : null;
      if (part) {
        log.push(`start ${part}`);
        for (const end of ['load', 'abort', 'error']) this.addEventListener(end, () => log.push(`${end} ${part}`));
      }
      return open.call(this, method, url, ...rest);
    };
    document.addEventListener(
      'click',
      (event: any) => event.target?.closest?.('li.upload button') && log.push('cancel'),
      { capture: true },
    );
  });
}

/** From a log written by {@link logPartUploads}: the parts open when Cancel was clicked, and how each ended. */
function partsOpenAtCancel(log: readonly string[]): { part: string; end: string | undefined }[] {
  const cancel = log.indexOf('cancel');
  const before = log.slice(0, cancel);
  const open = before.filter((e) => e.startsWith('start ')).map((e) => e.slice('start '.length));
  return open
    .filter((part) => !before.some((e) => e !== `start ${part}` && e.endsWith(` ${part}`)))
    .map((part) => ({
      part,
      end: log
        .slice(cancel + 1)
        .find((e) => e.endsWith(` ${part}`))
        ?.split(' ')[0],
    }));
}

/** Puts objects under a dev-login user's prefix with the bucket owner's keys, as if uploaded before. */
async function putObjects(subject: string, objects: Record<string, Buffer>): Promise<void> {
  for (const [name, body] of Object.entries(objects)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `users/dev-${subject}/${name}`, Body: body }));
  }
}

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('web app in Chromium', () => {
  test('alice uploads three files (one of 21 MiB) with progress, lists, downloads and deletes', async () => {
    const { context, page } = await newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));

    await page.goto(server.url);
    await page.waitForSelector('#dev-name');
    await page.screenshot({ path: shotPath('sign-in') });
    await signIn(page, server.url, alice);

    expect(await page.textContent('[data-testid=user]')).toBe(alice);
    expect(await page.textContent('[data-testid=prefix]')).toBe(`users/dev-${alice}/`);
    expect(await page.locator('[data-testid=access] .chip').allTextContents()).toEqual([
      'read',
      'write',
      'list',
      'delete',
    ]);
    // 900 s credentials: the countdown starts near 15:00 and runs.
    const first = (await page.textContent('[data-testid=expiry]'))!;
    expect(first).toMatch(/^1[45]:\d\d$/);
    const seconds = (t: string) => Number(t.split(':')[0]) * 60 + Number(t.split(':')[1]);
    await page.waitForFunction(
      (start) => {
        const [m, s] = (document.querySelector('[data-testid=expiry]')?.textContent ?? '0:0').split(':');
        return Number(m) * 60 + Number(s) < start;
      },
      seconds(first),
      { timeout: 5000 },
    );
    await page.waitForSelector('[data-testid=files] li.empty');
    expect(await page.textContent('[data-testid=files] li.empty')).toBe('No files yet. Upload one above.');

    // Record every value each progress bar shows, and the speed/ETA texts, as they change.
    await page.evaluate(() => {
      const seen: Record<string, { pct: number[]; speed: string[]; eta: string[] }> = {};
      window.__seen = seen;
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('li.upload')) {
          const name = row.dataset.name!;
          const entry = (seen[name] ??= { pct: [], speed: [], eta: [] });
          const pct = Number(row.querySelector('[role=progressbar]')!.getAttribute('aria-valuenow'));
          if (entry.pct.at(-1) !== pct) entry.pct.push(pct);
          const speed = row.querySelector('.speed')!.textContent!;
          if (speed && entry.speed.at(-1) !== speed) entry.speed.push(speed);
          const eta = row.querySelector('.eta')!.textContent!;
          if (eta && entry.eta.at(-1) !== eta) entry.eta.push(eta);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    // Slow the network so the 21 MiB upload (five 5 MiB parts) is visibly in progress.
    await throttleUploads(page, 3 * MiB);
    await page.setInputFiles(
      '#file-input',
      Object.keys(payloads).map((name) => join(files, name)),
    );
    await page.waitForFunction(
      () => {
        const bar = document.querySelector('li.upload[data-name="video.bin"] [role=progressbar]');
        return Number(bar?.getAttribute('aria-valuenow')) >= 20 && document.querySelector('li.upload[data-state=done]');
      },
      undefined,
      { timeout: 30_000, polling: 100 },
    );
    await page.screenshot({ path: shotPath('uploading') });
    for (const name of Object.keys(payloads)) {
      await page.waitForSelector(`li.upload[data-name="${name}"][data-state=done]`, { timeout: 60_000 });
      expect(await page.getAttribute(`li.upload[data-name="${name}"] [role=progressbar]`, 'aria-valuenow')).toBe('100');
      expect(await page.textContent(`li.upload[data-name="${name}"] .pct`)).toBe('100%');
    }
    const seen = (await page.evaluate(() => window.__seen)) as Record<
      string,
      { pct: number[]; speed: string[]; eta: string[] }
    >;
    const video = seen['video.bin']!;
    // Byte-level progress (XHR upload events), not only one step per 5 MiB part (at most 6 values).
    expect(video.pct.length).toBeGreaterThan(8);
    expect(video.pct.some((p) => p > 0 && p < 100)).toBe(true);
    expect(video.pct).toEqual([...video.pct].sort((a, b) => a - b));
    expect(video.pct.at(-1)).toBe(100);
    expect(video.speed[0]).toBe('starting…');
    expect(video.speed.length).toBeGreaterThan(2);
    expect(video.speed.slice(1).every((s) => /^\d+(\.\d)? (B|KiB|MiB|GiB)\/s$/.test(s))).toBe(true);
    expect(video.eta.some((e) => /^\d+ s left$/.test(e))).toBe(true);
    expect(video.eta.at(-1)).toMatch(/^done in \d+ s$/);

    // All three are listed, with sizes, newest first.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=files] li[data-key]').length === 3);
    const keys = await page
      .locator('[data-testid=files] li[data-key]')
      .evaluateAll((els) => els.map((el) => (el as any).dataset.key).sort());
    expect(keys).toEqual(['notes.txt', 'photo.jpg', 'video.bin']);
    expect(await page.textContent('li[data-key="video.bin"] .sub')).toMatch(/^21 MiB · /);
    expect(await page.textContent('li[data-key="photo.jpg"] .sub')).toMatch(/^300 KiB · /);
    expect(await page.textContent('li[data-key="notes.txt"] .sub')).toMatch(/^\d+ B · /);
    await page.screenshot({ path: shotPath('files'), fullPage: true });

    // The objects really are in the bucket under alice's prefix.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `users/dev-${alice}/video.bin` }));
    expect(head.ContentLength).toBe(21 * MiB);

    // Download: the saved bytes are the uploaded bytes.
    for (const name of ['video.bin', 'notes.txt'] as const) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`li[data-key="${name}"] button:has-text("Download")`),
      ]);
      expect(download.suggestedFilename()).toBe(name);
      expect(readFileSync((await download.path())!).equals(payloads[name])).toBe(true);
    }

    // Delete asks once more on the same button, then the row and the object are gone.
    await page.click('li[data-key="notes.txt"] button.danger');
    expect(await page.textContent('li[data-key="notes.txt"] button.danger')).toBe('Confirm delete');
    await page.click('li[data-key="notes.txt"] button.danger');
    await page.waitForSelector('li[data-key="notes.txt"]', { state: 'detached' });
    expect(await page.locator('[data-testid=files] li[data-key]').count()).toBe(2);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `users/dev-${alice}/notes.txt` })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });

    expect(await page.isHidden('#banner')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('cancel aborts the multipart upload on S3: no object and no open upload remain', async () => {
    const carol = freshSubject('carol');
    const big = join(files, 'cancel-me.bin');
    writeFileSync(big, randomBytes(30 * MiB));
    const { context, page } = await newPage();
    await logPartUploads(page);
    await signIn(page, server.url, carol);
    // Slow enough (30 s for the file) that a busy page still clicks Cancel while parts are in flight.
    await throttleUploads(page, 1 * MiB);
    await page.setInputFiles('#file-input', big);
    const prefix = `users/dev-${carol}/`;
    await until(async () => (await openUploads(prefix)) === 1, 'the multipart upload to start');
    // Let the first parts get under way: one is being sent. Polled on a timer: animation frames
    // (the default) can be too rare in a busy headless page.
    await page.waitForFunction(
      () => {
        const log: string[] = window.__partLog;
        const started = log.filter((e) => e.startsWith('start ')).map((e) => e.slice('start '.length));
        return started.some((part) => !log.some((e) => !e.startsWith('start ') && e.endsWith(` ${part}`)));
      },
      undefined,
      { polling: 100 },
    );
    // The click returns once the page handled it (its main thread may be busy hashing parts).
    await page.click('li.upload[data-name="cancel-me.bin"] button:has-text("Cancel")');
    await page.waitForSelector('li.upload[data-name="cancel-me.bin"][data-state=cancelled]');
    expect(await page.textContent('li.upload[data-name="cancel-me.bin"] .row-error')).toBe(
      'Upload cancelled; nothing was kept.',
    );
    expect(await page.textContent('li.upload[data-name="cancel-me.bin"] .pct')).toBe('Cancelled');
    await until(async () => (await openUploads(prefix)) === 0, 'the multipart upload to be aborted');
    // Parts in flight are stopped, not sent to the end: each one open when Cancel was clicked ends
    // as aborted. This waits for all of them to end, so one sent to the end would show as "load".
    let open: { part: string; end: string | undefined }[] = [];
    await until(
      async () => {
        open = partsOpenAtCancel((await page.evaluate(() => window.__partLog)) as string[]);
        return open.every((p) => p.end !== undefined);
      },
      'the parts in flight to end',
      60_000,
    );
    expect(open.length).toBeGreaterThan(0);
    expect(open).toEqual(open.map(({ part }) => ({ part, end: 'abort' })));
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}cancel-me.bin` })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    expect(await page.isHidden('#banner')).toBe(true);
    await context.close();
  });

  test("bob does not see another user's files, and reading their key directly is denied by S3", async () => {
    // Grace's file is put there directly, so this test does not depend on another one uploading it.
    const grace = freshSubject('grace');
    await putObjects(grace, { 'photo.jpg': payloads['photo.jpg'] });
    const { context, page } = await newPage();
    await signIn(page, server.url, bob);
    expect(await page.textContent('[data-testid=prefix]')).toBe(`users/dev-${bob}/`);
    await page.waitForSelector('[data-testid=files] li.empty');
    expect(await page.locator('[data-testid=files] li[data-key]').count()).toBe(0);

    // Drag and drop: a drop event carrying a file uploads it like the picker does.
    const transfer = await page.evaluateHandle(() => {
      const dt = new (globalThis as any).DataTransfer();
      dt.items.add(new (globalThis as any).File(['dropped by bob'], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('[data-testid=dropzone]', 'dragover', { dataTransfer: transfer });
    expect(await page.getAttribute('[data-testid=dropzone]', 'class')).toBe('card drop over');
    await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: transfer });
    await page.waitForSelector('li.upload[data-name="dropped.txt"][data-state=done]');
    await page.waitForSelector('[data-testid=files] li[data-key="dropped.txt"]');
    expect(await page.getAttribute('[data-testid=dropzone]', 'class')).toBe('card drop');
    expect(await page.locator('[data-testid=files] li[data-key]').count()).toBe(1);

    await page.click('details.open summary');
    await page.fill('#open-key', `users/dev-${grace}/photo.jpg`);
    await page.click('form[aria-label="Open by key"] button');
    await page.waitForSelector('#banner[data-kind=denied]');
    expect(await page.textContent('#banner .banner-text')).toBe(
      `Access denied: download "users/dev-${grace}/photo.jpg" is outside your grant. You can only use files under users/dev-${bob}/.`,
    );
    await page.screenshot({ path: shotPath('access-denied') });
    await context.close();
  });

  test('at phone width the page fits the screen without sideways scrolling', async () => {
    // Its own user with two files put there directly, so this test does not depend on the first.
    const frank = freshSubject('frank');
    await putObjects(frank, { 'video.bin': payloads['video.bin'], 'photo.jpg': payloads['photo.jpg'] });
    const { context, page } = await newPage({ width: 390, height: 844 });
    await signIn(page, server.url, frank);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=files] li[data-key]').length === 2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The file actions sit under the name, full width, not squeezed beside it.
    const row = (await page.locator('li[data-key="video.bin"]').boundingBox())!;
    const button = (await page.locator('li[data-key="video.bin"] button.danger').boundingBox())!;
    expect(row.width).toBeLessThanOrEqual(390);
    expect(button.x + button.width).toBeLessThanOrEqual(row.x + row.width + 1);
    await page.screenshot({ path: shotPath('phone'), fullPage: true });
    await context.close();
  });

  test('an expired session says so and offers to sign in again (real broker 401)', async () => {
    // A token valid for 1 s, from the broker's own dev login, on a broker with no clock tolerance.
    const strict = await startWebBroker(rig.dir, { clockToleranceSeconds: 0 });
    try {
      const res = await fetch(`${strict.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: freshSubject('dave'), ttlSeconds: 1 }),
      });
      const { token } = (await res.json()) as { token: string };
      // Wait until the broker itself refuses the token as expired, instead of sleeping past its exp.
      await until(async () => {
        const answer = await fetch(`${strict.url}/v1/credentials`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
        await answer.arrayBuffer();
        return answer.status === 401;
      }, 'the token to expire');
      const { context, page } = await newPage();
      // The tab held an OIDC session (no refresh token), which cannot renew itself.
      await page.addInitScript((t) => {
        sessionStorage.setItem(
          'keyhole.session',
          JSON.stringify({ kind: 'oidc', name: 'dave', token: t, tokenEndpoint: 'http://127.0.0.1:9/token' }),
        );
      }, token);
      await page.goto(strict.url);
      await page.waitForSelector('#banner[data-kind=expired]');
      expect(await page.textContent('#banner .banner-text')).toBe('Your session has expired. Please sign in again.');
      await page.screenshot({ path: shotPath('expired') });
      expect(await page.evaluate(() => sessionStorage.getItem('keyhole.session'))).toBe(null);
      await page.click('#banner button:has-text("Sign in again")');
      await page.waitForSelector('#dev-name');
      expect(await page.isHidden('#banner')).toBe(true);
      await context.close();
    } finally {
      await strict.close();
    }
  });

  test('an unreachable broker gives a clear message, not a blank page', async () => {
    const down = await deadUrl();
    const page_ = await startWebBroker(rig.dir, {}, { brokerUrl: down });
    try {
      const { context, page } = await newPage();
      await page.addInitScript(() => {
        sessionStorage.setItem('keyhole.session', JSON.stringify({ kind: 'dev', name: 'erin', token: 'x.y.z' }));
      });
      await page.goto(page_.url);
      await page.waitForSelector('#banner[data-kind=offline]', { timeout: 15_000 });
      expect(await page.textContent('#banner .banner-text')).toBe(
        'Can\u2019t reach the Keyhole broker. Check your connection or that the server is running, then try again.',
      );
      // The sign-in form is there to retry with.
      expect(await page.isVisible('#dev-name')).toBe(true);
      await page.screenshot({ path: shotPath('broker-down') });

      // Signing in while it is down says the same, in plain words.
      await page.fill('#dev-name', 'erin');
      await page.click('form[aria-label="Dev login"] button[type=submit]');
      await page.waitForFunction(() =>
        document.querySelector('#banner .banner-text')?.textContent?.startsWith('Can\u2019t reach the Keyhole broker.'),
      );
      await context.close();
    } finally {
      await page_.close();
    }
  });
});
