// Drives the browser bench page (page.ts) in Chromium through playwright-core: one tab per app
// server (same origin as the app the strategy talks to), one strategy run at a time, with the tab's
// JS heap sampled over the Chrome DevTools protocol while it runs.
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { chromiumLaunchOptions } from '../../helpers/chromium.js';
import { PAGE_PATH } from '../servers/app-server.js';
import type { PageJob, PageStrategy } from './page.js';

// Callbacks given to page.evaluate run in the browser; this Node program has no DOM types.
declare const window: any;

export interface HeapSample {
  /** V8 heap in use (what performance.memory.usedJSHeapSize reports). */
  readonly usedBytes: number;
  /** ArrayBuffer backing stores (bytes read into JS memory live here, outside the V8 heap). */
  readonly backingBytes: number;
}

export interface PageRun {
  readonly ms: number;
  readonly latencies: number[];
  /** Peak of V8 heap + ArrayBuffer backing stores while the run lasted, sampled every 50 ms. */
  readonly peakHeapBytes: number;
  readonly peakUsedBytes: number;
  readonly baseHeapBytes: number;
}

export class BenchTab {
  readonly page: Page;
  readonly #cdp: CDPSession;

  private constructor(page: Page, cdp: CDPSession) {
    this.page = page;
    this.#cdp = cdp;
  }

  static async open(browser: Browser, appUrl: string): Promise<BenchTab> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`  [page ${appUrl}] ${err.message}\n`));
    await page.goto(`${appUrl}${PAGE_PATH}index.html`);
    await page.waitForFunction(() => window.khBench !== undefined);
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    return new BenchTab(page, cdp);
  }

  async heap(): Promise<HeapSample> {
    const u = (await this.#cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
    return { usedBytes: u.usedSize, backingBytes: u.backingStorageSize ?? 0 };
  }

  async collectGarbage(): Promise<void> {
    await this.#cdp.send('HeapProfiler.collectGarbage');
  }

  async prepare(sizeBytes: number): Promise<void> {
    await this.page.evaluate((n) => window.khBench.prepare(n), sizeBytes);
  }

  async forget(): Promise<void> {
    await this.page.evaluate(() => window.khBench.forget());
  }

  async run(strategy: PageStrategy, job: PageJob): Promise<PageRun> {
    await this.collectGarbage();
    const base = await this.heap();
    let peak = base.usedBytes + base.backingBytes;
    let peakUsed = base.usedBytes;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const h = await this.heap().catch(() => undefined);
        if (h) {
          peak = Math.max(peak, h.usedBytes + h.backingBytes);
          peakUsed = Math.max(peakUsed, h.usedBytes);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const out = (await this.page.evaluate(([s, j]) => window.khBench.run(s, j), [strategy, job] as const)) as {
        ms: number;
        latencies: number[];
      };
      return {
        ...out,
        peakHeapBytes: peak,
        peakUsedBytes: peakUsed,
        baseHeapBytes: base.usedBytes + base.backingBytes,
      };
    } finally {
      sampling = false;
      await sampler;
    }
  }

  /**
   * Chooses the file at `path` in the page's file input (the browser reads it from disk) and uploads
   * it with Keyhole's defaults, sampling the tab's heap every `everyMs`.
   */
  async uploadFile(
    path: string,
    job: { appUrl: string; token: string; key: string },
    everyMs = 100,
  ): Promise<{ ms: number; bytes: number; peakHeapBytes: number; peakUsedBytes: number; baseHeapBytes: number }> {
    await this.page.setInputFiles('#file', path);
    await this.collectGarbage();
    const base = await this.heap();
    let peak = base.usedBytes + base.backingBytes;
    let peakUsed = base.usedBytes;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const h = await this.heap().catch(() => undefined);
        if (h) {
          peak = Math.max(peak, h.usedBytes + h.backingBytes);
          peakUsed = Math.max(peakUsed, h.usedBytes);
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    try {
      const out = (await this.page.evaluate((j) => window.khBench.uploadChosenFile(j), job)) as {
        ms: number;
        bytes: number;
      };
      return {
        ...out,
        peakHeapBytes: peak,
        peakUsedBytes: peakUsed,
        baseHeapBytes: base.usedBytes + base.backingBytes,
      };
    } finally {
      sampling = false;
      await sampler;
      await this.page.setInputFiles('#file', []);
    }
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch(chromiumLaunchOptions());
}
