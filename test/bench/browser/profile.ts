// Where Keyhole's per-object time goes in Chromium, for the small-object batch: the bench's own
// strategies beside the diagnostic ones of probes.ts, interleaved round-robin in one run, with the
// tab's main-thread script and task time (CDP Performance.getMetrics) per run.
//
//   node --import tsx test/bench/browser/profile.ts [objects, default 300] [reps, default 3] [strategies,...]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CDPSession } from 'playwright-core';
import { ownerS3, stack } from '../../helpers/stack.js';
import { benchPrefix, createBenchIssuer, PUBLIC_JWK_ENV } from '../auth.js';
import { PAGE_DIR_ENV, S3_ENDPOINT_ENV } from '../servers/app-server.js';
import { startApp } from '../servers/spawn.js';
import { median, percentile } from '../stats.js';
import { buildBenchPage } from './build.js';
import { BenchTab, launchBrowser } from './driver.js';
import type { PageJob, PageStrategy } from './page.js';
import { BROKER_PROBES } from './probes.js';

declare const window: any;

const KiB = 1024;
const count = Number(process.argv[2] ?? 300);
const reps = Number(process.argv[3] ?? 3);
const PAGE_STRATEGIES: readonly PageStrategy[] = [
  'keyhole',
  'amplify',
  'presigned-put',
  'presigned-post',
  'raw-xhr-put',
];
const ALL = [...PAGE_STRATEGIES, ...BROKER_PROBES, 'raw-xhr-post'] as const;
type Any = (typeof ALL)[number];
const chosen = (process.argv[4]?.split(',') ?? ALL) as Any[];

const owner = ownerS3();
const s = stack();
async function deletePrefix(prefix: string): Promise<number> {
  let n = 0;
  for (;;) {
    const page = await owner.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return n;
    await owner.send(new DeleteObjectsCommand({ Bucket: s.bucket, Delete: { Objects: keys, Quiet: true } }));
    n += keys.length;
  }
}

const ROOT = new URL('../../../', import.meta.url).pathname;
/** CPU time of radosgw so far, ms (utime + stime from /proc), or NaN when not readable. */
function rgwCpuMs(): number {
  try {
    const pid = readFileSync(`${ROOT}.local/rgw/run/client.rgw.keyhole.pid`, 'utf8').trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

const issuer = await createBenchIssuer();
const page = await buildBenchPage();
const env = {
  [PUBLIC_JWK_ENV]: JSON.stringify(issuer.publicJwk),
  [PAGE_DIR_ENV]: page.dir,
  [S3_ENDPOINT_ENV]: s.s3TlsEndpoint,
  NODE_EXTRA_CA_CERTS: s.caCertFile,
};
const browser = await launchBrowser();
const [broker, presign] = await Promise.all([startApp('broker-main.ts', env), startApp('presign-main.ts', env)]);
const log = (line: string) => process.stdout.write(line + '\n');
try {
  const tabs = { broker: await BenchTab.open(browser, broker.url), presign: await BenchTab.open(browser, presign.url) };
  const cdps = {
    broker: await tabs.broker.page.context().newCDPSession(tabs.broker.page),
    presign: await tabs.presign.page.context().newCDPSession(tabs.presign.page),
  };
  for (const c of Object.values(cdps)) await c.send('Performance.enable');
  for (const t of Object.values(tabs)) await t.prepare(16 * KiB);
  const cells = new Map<
    Any,
    { rates: number[]; lat: number[]; script: number[]; task: number[]; rgw: number[]; traces: any[] }
  >();
  const runOne = async (st: Any, record: boolean) => {
    const sub = `bench-${randomBytes(6).toString('hex')}`;
    const onBroker = st === 'keyhole' || st === 'amplify' || (BROKER_PROBES as readonly string[]).includes(st);
    const app = onBroker ? broker : presign;
    const tab = onBroker ? tabs.broker : tabs.presign;
    const cdp = onBroker ? cdps.broker : cdps.presign;
    const job: PageJob = {
      appUrl: app.url,
      token: await issuer.mint(sub),
      keys: Array.from({ length: count }, (_, i) => `f${i}.bin`),
      sizeBytes: 16 * KiB,
      shape: { objectConcurrency: 16 },
      customEndpoint: new URL(s.s3TlsEndpoint).host,
    };
    const m0 = await metrics(cdp);
    const rgw0 = rgwCpuMs();
    const isProbe = !(PAGE_STRATEGIES as readonly string[]).includes(st);
    const out = (await tab.page.evaluate(
      ([p, name, j]) => (p ? window.khBench.probe(name, j) : window.khBench.run(name, j)),
      [isProbe, st, job] as const,
    )) as { ms: number; latencies: number[]; traces?: any };
    const rgw1 = rgwCpuMs();
    const m1 = await metrics(cdp);
    const stored = await deletePrefix(benchPrefix(sub));
    if (stored !== count) throw new Error(`${st}: ${stored} stored, expected ${count}`);
    if (!record) return;
    const c = cells.get(st) ?? { rates: [], lat: [], script: [], task: [], rgw: [], traces: [] };
    cells.set(st, c);
    c.rates.push(count / (out.ms / 1000));
    c.lat.push(...out.latencies);
    // Main-thread time per object, ms (includes untimed set-up of probes: presigning).
    c.script.push(((m1.ScriptDuration! - m0.ScriptDuration!) * 1000) / count);
    c.task.push(((m1.TaskDuration! - m0.TaskDuration!) * 1000) / count);
    // radosgw CPU per object (includes presigning calls of probes and other jobs' requests, if any).
    c.rgw.push((rgw1 - rgw0) / count);
    if (st === 'keyhole-traced') c.traces.push(out.traces);
    log(
      `  ${st.padEnd(16)} ${(count / (out.ms / 1000)).toFixed(0).padStart(5)} obj/s  script ${c.script.at(-1)!.toFixed(2)} ms/obj  task ${c.task.at(-1)!.toFixed(2)} ms/obj  rgw ${c.rgw.at(-1)!.toFixed(2)} ms/obj  load ${loadavg()[0]!.toFixed(1)}`,
    );
  };
  log(
    `profile: ${count} × 16 KiB, 16 in flight, ${reps} reps, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const st of chosen) await runOne(st, false);
  for (let rep = 0; rep < reps; rep++) {
    const order = chosen.map((_, i) => chosen[(i + rep) % chosen.length]!);
    for (const st of order) await runOne(st, true);
  }
  log('');
  log(
    '| strategy | median obj/s | p50 ms | p99 ms | main-thread script ms/obj | main-thread task ms/obj | radosgw CPU ms/obj |',
  );
  log('|---|---|---|---|---|---|---|');
  for (const st of chosen) {
    const c = cells.get(st)!;
    log(
      `| ${st} | ${median(c.rates).toFixed(0)} | ${percentile(c.lat, 50).toFixed(0)} | ${percentile(c.lat, 99).toFixed(0)} | ${median(c.script).toFixed(2)} | ${median(c.task).toFixed(2)} | ${median(c.rgw).toFixed(2)} |`,
    );
  }
  const t = cells.get('keyhole-traced');
  if (t) {
    const all = (k: string) => t.traces.flatMap((x) => x[k] as number[]);
    log('');
    log(
      `keyhole-traced stages (ms, p50 / p90): upload() -> HTTP request ${percentile(all('client'), 50).toFixed(1)} / ${percentile(all('client'), 90).toFixed(1)}; ` +
        `HTTP request ${percentile(all('http'), 50).toFixed(1)} / ${percentile(all('http'), 90).toFixed(1)}; response -> upload() resolves ${percentile(all('after'), 50).toFixed(1)} / ${percentile(all('after'), 90).toFixed(1)}`,
    );
  }
  log(
    `load at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await browser.close();
  broker.stop();
  presign.stop();
  page.remove();
}
process.exit(0);
