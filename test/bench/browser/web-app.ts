// The web app (client/web) in the browser bench: a user's file chosen in its file input, timed in
// the page from the input's `change` event until the file's row says done (data-state=done), as in
// issue 12's first table. Interleaved with the client module uploading the same file from disk
// through the bench page's own file input (keyhole-file), both over RGW's HTTPS endpoint, in the
// same browser as the rest of the browser bench.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { createBroker, createLogger } from '../../../server/index.js';
import { withWebApp } from '../../../server/http/web-app.js';
import { buildWebApp } from '../../e2e/web-server.js';
import { stack, stackVendor } from '../../helpers/stack.js';
import type { BenchIssuer } from '../auth.js';
import type { AppProcess } from '../servers/spawn.js';
import { BenchTab } from './driver.js';

// Callbacks given to page.evaluate run in the browser; this Node program has no DOM types.
declare const window: any;
declare const document: any;
declare const MutationObserver: any;

const MiB = 1024 * 1024;

/** One timed upload: seconds, and the app-server requests and STS calls it caused. */
export interface WebAppRun {
  readonly seconds: number;
  readonly appRequests: number;
  readonly stsCalls: number;
}

export type WebAppStrategy = 'web-app' | 'keyhole-file';

/** Writes `size` random bytes to a new file; returns its path and a remover. */
export function writeRandomFile(size: number, name = 'upload.bin'): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-bench-file-'));
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(16 * MiB);
    for (let left = size; left > 0; left -= chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    }
  } finally {
    closeSync(fd);
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

interface WebApp {
  readonly url: string;
  /** Requests to the broker API so far (not the page, its assets or config). */
  stats(): { requests: number; stsCalls: number };
  close(): Promise<void>;
}

/** Broker (dev login) + built web app on one origin, like `npm start`, handing out the HTTPS endpoint. */
async function startWebApp(dir: string): Promise<WebApp> {
  const s = stack();
  const vendor = stackVendor();
  const broker = createBroker({
    grants: [{ bucket: s.bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
    region: s.region,
    s3Endpoint: s.s3TlsEndpoint,
    devLogin: true,
    rateLimit: false,
    logger: createLogger('silent'),
    vendor,
  });
  const app = withWebApp(broker, { dir, config: { devLogin: true }, connectOrigins: [s.s3TlsEndpoint] });
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (!/^\/(index\.html|config\.json|favicon\.svg)?$/.test(path) && !path.startsWith('/assets/')) requests++;
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ requests, stsCalls: vendor.upstreamCalls() }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One upload of `path` through the web app, signed in as a new dev user; seconds, and the prefix used. */
async function webAppUpload(browser: Browser, web: WebApp, path: string): Promise<WebAppRun & { prefix: string }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(web.url);
    await page.fill('#dev-name', `bench-web-${randomBytes(4).toString('hex')}`);
    await page.click('form[aria-label="Dev login"] button[type=submit]');
    await page.waitForSelector('[data-testid=prefix]');
    const prefix = (await page.textContent('[data-testid=prefix]'))!.trim();
    await page.evaluate(() => {
      window.__t0 = undefined;
      window.__t1 = undefined;
      document.addEventListener('change', () => (window.__t0 ??= performance.now()), { capture: true });
      new MutationObserver(() => {
        if (window.__t1 === undefined && document.querySelector('li.upload:is([data-state=done], [data-state=failed])'))
          window.__t1 = performance.now();
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const before = web.stats();
    await page.setInputFiles('#file-input', path);
    await page.waitForFunction(() => window.__t1 !== undefined, undefined, { timeout: 600_000, polling: 50 });
    const failed = await page.$('li.upload[data-state=failed]');
    if (failed) throw new Error(`web app upload failed: ${await failed.textContent()}`);
    const ms = (await page.evaluate(() => window.__t1 - window.__t0)) as number;
    const after = web.stats();
    return {
      seconds: ms / 1000,
      appRequests: after.requests - before.requests,
      stsCalls: after.stsCalls - before.stsCalls,
      prefix,
    };
  } finally {
    await context.close();
  }
}

/**
 * Runs web-app and keyhole-file uploads of one file of `sizeBytes` from disk, one warm-up each, then
 * `reps` timed ones each, alternating the order; returns the timed runs per strategy.
 */
export async function measureWebApp(options: {
  readonly browser: Browser;
  readonly issuer: BenchIssuer;
  /** The bench's broker (serving the bench page), for keyhole-file. */
  readonly broker: AppProcess;
  readonly sizeBytes: number;
  readonly reps: number;
  readonly log: (line: string) => void;
  readonly deletePrefix: (prefix: string) => Promise<number>;
}): Promise<Record<WebAppStrategy, WebAppRun[]>> {
  const { browser, log } = options;
  const built = await buildWebApp();
  const web = await startWebApp(built.dir);
  const file = writeRandomFile(options.sizeBytes);
  const tab = await BenchTab.open(browser, options.broker.url);
  const runs: Record<WebAppStrategy, WebAppRun[]> = { 'web-app': [], 'keyhole-file': [] };
  try {
    const one = async (strategy: WebAppStrategy, record: boolean) => {
      let run: WebAppRun;
      let prefix: string;
      if (strategy === 'web-app') {
        ({ prefix, ...run } = await webAppUpload(browser, web, file.path));
      } else {
        const sub = `bench-file-${randomBytes(6).toString('hex')}`;
        prefix = `users/${sub}/`;
        const token = await options.issuer.mint(sub);
        const before = await options.broker.stats();
        const r = await tab.uploadFile(file.path, { appUrl: options.broker.url, token, key: 'upload.bin' }, 250);
        const after = await options.broker.stats();
        run = {
          seconds: r.ms / 1000,
          appRequests: after.requests - before.requests,
          stsCalls: after.stsCalls - before.stsCalls,
        };
      }
      const stored = await options.deletePrefix(prefix);
      if (stored !== 1) throw new Error(`${strategy}: ${stored} objects stored under ${prefix}, expected 1`);
      if (!record) return;
      runs[strategy].push(run);
      log(
        `  web-upload-1x${options.sizeBytes / MiB}MiB (disk file)  ${strategy.padEnd(14)} ${run.seconds.toFixed(2).padStart(7)} s  ${(options.sizeBytes / MiB / run.seconds).toFixed(1).padStart(7)} MiB/s  app ${run.appRequests} req`,
      );
    };
    const strategies = Object.keys(runs) as WebAppStrategy[];
    for (const st of strategies) await one(st, false);
    for (let rep = 0; rep < options.reps; rep++) {
      for (const st of rep % 2 ? [...strategies].reverse() : strategies) await one(st, true);
    }
    return runs;
  } finally {
    await tab.close();
    await web.close();
    file.remove();
    built.remove();
  }
}
