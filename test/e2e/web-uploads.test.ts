// Issue 17, points 10 and 14, in Chromium against a real broker and the local RGW: a batch of 50
// uploads gets one overall line and folds away once stored ("Clear finished" removes it); a row's
// bar always shows the number written beside it, and no row says 100% before its file is stored;
// "Open by key" on a key that does not exist says "No such file".
import { randomBytes } from 'node:crypto';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshSubject } from '../helpers/broker.js';
import { startWebRig, type WebRig, type WebServer } from './web-server.js';

// Callbacks given to page.evaluate run in the browser; this Node test program has no DOM types.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;

const MiB = 1024 * 1024;
let rig: WebRig;
let server: WebServer;
let browser: Browser;

beforeAll(async () => {
  rig = await startWebRig();
  ({ server, browser } = rig);
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

async function signedInPage(): Promise<{ context: BrowserContext; page: Page; user: string }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 860 } });
  const page = await context.newPage();
  const user = freshSubject('batch');
  await page.goto(server.url);
  await page.fill('#dev-name', user);
  await page.click('form[aria-label="Dev login"] button[type=submit]');
  await page.waitForSelector('[data-testid=prefix]');
  return { context, page, user };
}

/**
 * Watches every upload row and the overall line from now on, and records each moment one of them
 * broke a rule: a bar whose width is not the number beside it (or its aria-valuenow), or a row that
 * says 100% while its upload still runs.
 */
async function watchBars(page: Page): Promise<void> {
  await page.evaluate(() => {
    const broken: string[] = (window.__broken = []);
    let checks = 0;
    const check = () => {
      checks++;
      for (const row of document.querySelectorAll('li.upload, [data-testid=upload-summary]')) {
        const bar = row.querySelector('[role=progressbar]');
        const fill = bar.querySelector('.fill');
        const value = Number(bar.getAttribute('aria-valuenow'));
        const label = row.querySelector('.pct')?.textContent;
        const state = row.dataset.state;
        if ((fill.style.width || '0%') !== `${value}%`)
          broken.push(`${row.dataset.name}: width ${fill.style.width} for ${value}`);
        if (label !== undefined && /^\d+%$/.test(label) && label !== `${value}%`) {
          broken.push(`${row.dataset.name}: label ${label} for ${value}`);
        }
        if (state === 'uploading' && (value === 100 || label === '100%'))
          broken.push(`${row.dataset.name}: 100% in flight`);
        // What is drawn, too: the fill's laid-out width (no transition lags behind the number).
        const full = bar.getBoundingClientRect().width;
        if (full > 0 && !row.hidden && row.offsetParent !== null) {
          const drawn = (fill.getBoundingClientRect().width / full) * 100;
          if (Math.abs(drawn - value) > 1.5)
            broken.push(`${row.dataset.name}: drawn ${drawn.toFixed(1)}% for ${value}`);
        }
      }
    };
    window.__checks = () => checks;
    new MutationObserver(check).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  });
}

describe('the upload queue', () => {
  test('50 files: one overall line, five stored rows and a closed group of 45, then "Clear finished"', async () => {
    const { context, page } = await signedInPage();
    await watchBars(page);
    const files = Array.from({ length: 50 }, (_, i) => ({
      name: `batch-${String(i).padStart(2, '0')}.txt`,
      mimeType: 'text/plain',
      buffer: randomBytes(2048),
    }));
    await page.setInputFiles('#file-input', files);
    await page.waitForSelector('[data-testid=upload-summary]:not([hidden])');
    await page.waitForSelector('[data-testid=upload-summary][data-state=done]', { timeout: 90_000 });
    expect(await page.textContent('[data-testid=upload-summary-text]')).toBe('50 files uploaded');
    expect(await page.getAttribute('[data-testid=upload-summary] [role=progressbar]', 'aria-valuenow')).toBe('100');

    // Five stored rows stay in the list; the other 45 are in a closed group.
    expect(await page.locator('ul[aria-label="Uploads"] > li.upload[data-state=done]').count()).toBe(5);
    expect(await page.locator('[data-testid=older-uploads] li.upload[data-state=done]').count()).toBe(45);
    expect(await page.getAttribute('[data-testid=older-uploads]', 'open')).toBeNull();
    expect(await page.textContent('[data-testid=older-uploads] summary')).toBe('45 more finished uploads');
    expect(await page.locator('li.upload:visible').count()).toBe(5);
    // "Your files" stays in reach: the page was 9,092 px tall with 50 full cards.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=files] li[data-key]').length === 50);
    const filesTop = await page.evaluate(
      () => document.querySelector('[data-testid=files]').getBoundingClientRect().top + window.scrollY,
    );
    expect(filesTop).toBeLessThan(1300);

    await page.click('[data-testid=upload-summary] button:has-text("Clear finished")');
    expect(await page.locator('li.upload').count()).toBe(0);
    expect(await page.isHidden('[data-testid=upload-summary]')).toBe(true);
    expect(await page.isHidden('[data-testid=older-uploads]')).toBe(true);
    expect(await page.evaluate(() => window.__checks())).toBeGreaterThan(50);
    expect(await page.evaluate(() => window.__broken)).toEqual([]);
    await context.close();
  });

  test('a slow upload: bar and percentage agree all along, 99% "finishing…" until stored, never 100% in flight', async () => {
    const { context, page } = await signedInPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 4 * MiB,
    });
    await watchBars(page);
    await page.setInputFiles('#file-input', [
      { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: randomBytes(12 * MiB) },
      { name: 'small.txt', mimeType: 'text/plain', buffer: Buffer.from('small') },
    ]);
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('li.upload[data-name="slow.bin"] [role=progressbar]')?.getAttribute('aria-valuenow'),
        ) >= 30,
      undefined,
      { timeout: 30_000, polling: 100 },
    );
    expect(await page.textContent('[data-testid=upload-summary-text]')).toMatch(
      /^Uploading 1 file: 1 of 2 done, \d+% \([\d.]+ MiB of 12 MiB\)$/,
    );
    await page.waitForSelector('li.upload[data-name="slow.bin"][data-state=done]', { timeout: 60_000 });
    expect(await page.textContent('li.upload[data-name="slow.bin"] .pct')).toBe('100%');
    expect(await page.textContent('[data-testid=upload-summary-text]')).toBe('2 files uploaded');
    expect(await page.evaluate(() => window.__broken)).toEqual([]);
    await context.close();
  });
});

describe('Open by key', () => {
  test('a key under your prefix that does not exist: "No such file", with the key as typed', async () => {
    const { context, page, user } = await signedInPage();
    await page.click('details.open summary');
    await page.fill('#open-key', `users/dev-${user}/nope.txt`);
    await page.click('form[aria-label="Open by key"] button');
    await page.waitForSelector('#banner:not([hidden])');
    expect(await page.textContent('#banner .banner-text')).toBe(`No such file "users/dev-${user}/nope.txt".`);
    await context.close();
  });
});
