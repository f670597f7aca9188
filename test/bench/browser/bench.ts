// The browser half of `npm run bench`: uploads from headless Chromium (playwright-core) through
// the Keyhole client module and through the presigned-URL designs, against the same RGW in one
// interleaved run, over RGW's HTTPS endpoint (as S3 always is for a browser). The Node client runs
// the same large upload over the same endpoint, for the "browser vs Node" ratio.
import { randomBytes, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { brokerCredentials, createStorage } from '../../../client/index.js';
import { stack } from '../../helpers/stack.js';
import type { BenchIssuer } from '../auth.js';
import { benchPrefix, PUBLIC_JWK_ENV } from '../auth.js';
import type { Run } from '../record.js';
import type { BrowserRecord } from './report.js';
import { PAGE_DIR_ENV, S3_ENDPOINT_ENV } from '../servers/app-server.js';
import { startApp, type AppProcess } from '../servers/spawn.js';
import { median, percentile, round } from '../stats.js';
import { buildBenchPage } from './build.js';
import { BenchTab, launchBrowser } from './driver.js';
import type { PageShape, PageStrategy } from './page.js';
import { measureWebApp } from './web-app.js';

const MiB = 1024 * 1024;
const KiB = 1024;

/** A browser strategy, or the product's Node client for comparison. */
export type BrowserStrategy = PageStrategy | 'node-keyhole';

export interface BrowserWorkload {
  readonly name: string;
  readonly role: 'browser-large' | 'browser-small';
  readonly count: number;
  readonly sizeBytes: number;
  readonly shape: PageShape;
  readonly strategies: readonly BrowserStrategy[];
}

function workloads(large: number, small: number): BrowserWorkload[] {
  const label = (n: number, size: number) =>
    `browser-upload-${n}x${size >= MiB ? `${size / MiB}MiB` : `${size / KiB}KiB`}`;
  return [
    {
      name: label(1, large),
      role: 'browser-large',
      count: 1,
      sizeBytes: large,
      // Keyhole picks its part size and queue from the file size; presigned multipart uses the
      // usual 8 MiB parts, 4 in flight; raw-xhr-put is one XHR PUT, the browser's own ceiling.
      shape: { objectConcurrency: 1 },
      strategies: ['keyhole', 'amplify', 'presigned-multipart', 'raw-xhr-put', 'node-keyhole'],
    },
    {
      name: label(small, 16 * KiB),
      role: 'browser-small',
      count: small,
      sizeBytes: 16 * KiB,
      shape: { objectConcurrency: 16 },
      strategies: ['keyhole', 'amplify', 'presigned-put', 'presigned-post', 'raw-xhr-put'],
    },
  ];
}

export const BROWSER_FULL = workloads(256 * MiB, 600);
export const BROWSER_QUICK = workloads(24 * MiB, 100);

type Log = (line: string) => void;

/** The Node client over the same HTTPS endpoint, trusting the local CA. */
async function nodeUpload(appUrl: string, token: string, keys: readonly string[], body: Uint8Array): Promise<void> {
  const s = stack();
  const storage = createStorage({
    credentials: brokerCredentials({ brokerUrl: appUrl, getToken: () => token }),
    s3: {
      requestHandler: new NodeHttpHandler({
        httpsAgent: new Agent({ keepAlive: true, ca: readFileSync(s.caCertFile) }),
      }),
    },
  });
  try {
    for (const key of keys) await storage.upload(key, body);
  } finally {
    storage.signOut();
  }
}

export async function runBrowserBench(options: {
  readonly issuer: BenchIssuer;
  readonly workloads: readonly BrowserWorkload[];
  readonly reps: number;
  readonly log: Log;
  /** Deletes everything under a prefix; returns how many objects there were. */
  readonly deletePrefix: (prefix: string) => Promise<number>;
  /** Also time the web app (client/web) on the large size; default true. */
  readonly webApp?: boolean;
}): Promise<{ records: BrowserRecord[]; browser: string }> {
  const { issuer, log } = options;
  const s = stack();
  const page = await buildBenchPage();
  const env = {
    [PUBLIC_JWK_ENV]: JSON.stringify(options.issuer.publicJwk),
    [PAGE_DIR_ENV]: page.dir,
    [S3_ENDPOINT_ENV]: s.s3TlsEndpoint,
    // The presigned-URL server calls S3 itself (create and complete multipart) over HTTPS.
    NODE_EXTRA_CA_CERTS: s.caCertFile,
  };
  let broker: AppProcess | undefined;
  let presign: AppProcess | undefined;
  const browser = await launchBrowser();
  try {
    [broker, presign] = await Promise.all([startApp('broker-main.ts', env), startApp('presign-main.ts', env)]);
    const tabs = {
      keyhole: await BenchTab.open(browser, broker.url),
      other: await BenchTab.open(browser, presign.url),
    };
    const bodies = new Map<number, Uint8Array>();
    for (const w of options.workloads) {
      for (const t of Object.values(tabs)) await t.prepare(w.sizeBytes);
      if (w.strategies.includes('node-keyhole')) bodies.set(w.sizeBytes, randomFillSync(Buffer.alloc(w.sizeBytes)));
    }
    const cells = new Map<string, { runs: Run[]; latencies: number[]; peak: number }>();

    const runOne = async (w: BrowserWorkload, strategy: BrowserStrategy, record: boolean) => {
      const sub = `bench-${randomBytes(6).toString('hex')}`;
      const prefix = benchPrefix(sub);
      const token = await issuer.mint(sub);
      const keyhole = strategy === 'keyhole' || strategy === 'amplify' || strategy === 'node-keyhole';
      const app = keyhole ? broker! : presign!;
      const keys = Array.from({ length: w.count }, (_, i) => `f${i}.bin`);
      const before = await app.stats();
      let seconds: number;
      let latencies: number[];
      let peak: number | undefined;
      if (strategy === 'node-keyhole') {
        const started = performance.now();
        await nodeUpload(app.url, token, keys, bodies.get(w.sizeBytes)!);
        seconds = (performance.now() - started) / 1000;
        latencies = [seconds * 1000];
      } else {
        const tab = keyhole ? tabs.keyhole : tabs.other;
        const r = await tab.run(strategy, {
          appUrl: app.url,
          token,
          keys,
          sizeBytes: w.sizeBytes,
          shape: w.shape,
          customEndpoint: new URL(s.s3TlsEndpoint).host,
        });
        seconds = r.ms / 1000;
        latencies = r.latencies;
        peak = r.peakHeapBytes;
      }
      const after = await app.stats();
      const stored = await options.deletePrefix(prefix);
      if (stored !== w.count) throw new Error(`${w.name} ${strategy}: ${stored} objects stored, expected ${w.count}`);
      if (!record) return;
      const run: Run = {
        seconds: round(seconds),
        mibPerS: round((w.count * w.sizeBytes) / MiB / seconds),
        ...(w.count > 1 ? { objPerS: round(w.count / seconds) } : {}),
        // The raw-xhr-put ceiling presigns its URLs before its clock starts: those are not counted.
        appRequests: strategy === 'raw-xhr-put' ? 0 : after.requests - before.requests,
        appCpuMs: strategy === 'raw-xhr-put' ? 0 : round(after.cpuMs - before.cpuMs),
        stsCalls: after.stsCalls - before.stsCalls,
        clientCpuMs: 0,
      };
      const id = `${w.name}|${strategy}`;
      const c = cells.get(id) ?? { runs: [], latencies: [], peak: 0 };
      cells.set(id, c);
      c.runs.push(run);
      c.latencies.push(...latencies);
      if (peak !== undefined) c.peak = Math.max(c.peak, peak);
      log(
        `  ${w.name.padEnd(26)} ${strategy.padEnd(20)} ${run.seconds.toFixed(2).padStart(7)} s  ${String(run.objPerS ?? run.mibPerS).padStart(7)} ${run.objPerS ? 'obj/s' : 'MiB/s'}  app ${run.appRequests} req${peak !== undefined ? `  peak heap ${(peak / MiB).toFixed(1)} MiB` : ''}`,
      );
    };

    log('bench (browser): warming up every strategy (not recorded)');
    for (const w of options.workloads) for (const st of w.strategies) await runOne(w, st, false);
    for (let rep = 0; rep < options.reps; rep++) {
      log(`bench (browser): repetition ${rep + 1}/${options.reps}`);
      for (const w of options.workloads) {
        const order = w.strategies.map((_, i) => w.strategies[(i + rep) % w.strategies.length]!);
        for (const st of order) await runOne(w, st, true);
      }
    }

    const records: BrowserRecord[] = [];
    for (const w of options.workloads) {
      for (const strategy of w.strategies) {
        const c = cells.get(`${w.name}|${strategy}`)!;
        const med = (k: 'seconds' | 'mibPerS' | 'objPerS' | 'appRequests' | 'appCpuMs' | 'stsCalls') =>
          c.runs[0]![k] === undefined ? undefined : round(median(c.runs.map((r) => r[k] as number)));
        const fastest = [...c.runs].sort((a, b) => a.seconds - b.seconds)[0]!;
        records.push({
          workload: w.name,
          strategy,
          params: {
            objects: w.count,
            objectBytes: w.sizeBytes,
            objectConcurrency: w.shape.objectConcurrency,
            ...(w.shape.queueSize ? { queueSize: w.shape.queueSize } : {}),
            ...(w.shape.partSizeBytes ? { partSizeBytes: w.shape.partSizeBytes } : {}),
          },
          runs: c.runs,
          median: {
            seconds: med('seconds')!,
            mibPerS: med('mibPerS')!,
            ...(w.count > 1 ? { objPerS: med('objPerS')! } : {}),
          },
          min: {
            seconds: fastest.seconds,
            mibPerS: fastest.mibPerS!,
            ...(fastest.objPerS !== undefined ? { objPerS: fastest.objPerS } : {}),
          },
          appRequests: med('appRequests')!,
          appCpuMs: med('appCpuMs')!,
          stsCalls: med('stsCalls')!,
          ...(w.count > 1
            ? { latencyMs: { p50: round(percentile(c.latencies, 50)), p99: round(percentile(c.latencies, 99)) } }
            : {}),
          ...(strategy === 'node-keyhole' ? {} : { peakHeapMiB: round(c.peak / MiB) }),
        });
      }
    }
    // The web app (client/web), as a user runs it: the large size, from a file on disk chosen in its
    // file input, until its row says done; beside the client module uploading the same file.
    const large = options.workloads.find((w) => w.role === 'browser-large');
    if (large && options.webApp !== false) {
      const web = await measureWebApp({
        browser,
        issuer,
        broker: broker!,
        sizeBytes: large.sizeBytes,
        reps: options.reps,
        log,
        deletePrefix: options.deletePrefix,
      });
      for (const [strategy, runs] of Object.entries(web)) {
        const seconds = median(runs.map((r) => r.seconds));
        const fastest = Math.min(...runs.map((r) => r.seconds));
        const mibPerS = (t: number) => round(large.sizeBytes / MiB / t);
        records.push({
          workload: `web-upload-1x${large.sizeBytes / MiB}MiB`,
          strategy,
          params: { objects: 1, objectBytes: large.sizeBytes, objectConcurrency: 1 },
          runs: runs.map((r) => ({
            seconds: round(r.seconds),
            mibPerS: mibPerS(r.seconds),
            appRequests: r.appRequests,
            appCpuMs: 0,
            stsCalls: r.stsCalls,
            clientCpuMs: 0,
          })),
          median: { seconds: round(seconds), mibPerS: mibPerS(seconds) },
          min: { seconds: round(fastest), mibPerS: mibPerS(fastest) },
          appRequests: round(median(runs.map((r) => r.appRequests))),
          appCpuMs: 0,
          stsCalls: round(median(runs.map((r) => r.stsCalls))),
        });
      }
    }
    return { records, browser: `Chromium ${browser.version()}` };
  } finally {
    await browser.close();
    broker?.stop();
    presign?.stop();
    page.remove();
  }
}

export { checkBrowserTargets, renderBrowserMarkdown, type BrowserRecord, type BrowserTarget } from './report.js';
