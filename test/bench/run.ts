// `npm run bench [-- --quick] [-- --out DIR | --publish] [-- --reps N] [-- --skip-browser] [-- --allow-busy]`:
// Keyhole against
// presigned URLs and against direct static-key access (the ceiling), on the local RGW, in one
// interleaved run; then the same comparison from headless Chromium (browser/bench.ts).
// Results go to a new temporary folder unless --out names one; only --publish overwrites the committed
// results (test/bench/results). A start on a busy machine (load average above the core count) is refused
// unless --allow-busy; each run records the load average before and after it, and busy runs are flagged.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ownerS3, stack } from '../helpers/stack.js';
import { BENCH_ROOT, benchPrefix, createBenchIssuer, PUBLIC_JWK_ENV } from './auth.js';
import {
  BROWSER_FULL,
  BROWSER_QUICK,
  checkBrowserTargets,
  renderBrowserMarkdown,
  runBrowserBench,
} from './browser/bench.js';
import { measureFileUploadHeap } from './browser/file-heap.js';
import { credentialLoad, type CapacityCase } from './capacity.js';
import { assertRecords, type BenchRecord, type Run } from './record.js';
import { renderMarkdown, renderSvg, checkTargets, type Meta } from './report.js';
import { startApp, type AppProcess } from './servers/spawn.js';
import { BUSY_FACTOR, cores, isBusy, isBusyRun, loadAverage, resolveOutDir } from './conditions.js';
import { median, percentile, round } from './stats.js';
import { download, upload, type RunContext, type Strategy } from './strategies.js';
import { FULL, PART_SIZE, QUICK, type Role, type Workload } from './workloads.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    reps: { type: 'string' },
    'skip-browser': { type: 'boolean', default: false },
    publish: { type: 'boolean', default: false },
    'allow-busy': { type: 'boolean', default: false },
  },
});
const quick = args.quick === true;
const reps = Number(args.reps ?? (quick ? 3 : 5));
if (!Number.isInteger(reps) || reps < 1) throw new RangeError('--reps must be a positive integer');
const outDir = resolveOutDir(args, ROOT);
const workloads: Workload[] = quick ? QUICK : FULL;
const capacityRequests = quick
  ? { 'same-subject (cache hit)': 500, 'distinct subjects': 150 }
  : { 'same-subject (cache hit)': 5000, 'distinct subjects': 1000 };
const CONNECTIONS = 16;

const log = (msg: string) => process.stdout.write(msg + '\n');
const s = stack();
const owner = ownerS3();
// The stack's state folder: the default one, or another instance's (KEYHOLE_LOCAL_DIR, as infra/local/lib.sh reads it).
const stateDir = process.env.KEYHOLE_LOCAL_DIR ?? join(ROOT, '.local/rgw');
const cephConf = join(stateDir, 'ceph.conf');

// CPU time of a local Ceph daemon (radosgw or ceph-osd), from /proc; undefined when not readable.
function daemonCpuMs(name: 'client.rgw.keyhole' | 'osd.0'): number | undefined {
  try {
    const pid = readFileSync(join(stateDir, `run/${name}.pid`), 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/**
 * The bucket notifications that would fire on the bench's uploads, named: a notification of created
 * objects whose prefix filter covers BENCH_ROOT (or that has none). RGW delivers a non-persistent topic
 * before it answers the upload, so every PUT would include an HTTP push to some receiver.
 */
async function notificationsOnBenchPrefix(): Promise<string[]> {
  const config = await owner.send(new GetBucketNotificationConfigurationCommand({ Bucket: s.bucket }));
  return (config.TopicConfigurations ?? []).flatMap((t) => {
    const created = (t.Events ?? []).some((e) => e.startsWith('s3:ObjectCreated:'));
    const prefix = t.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value ?? '';
    return created && BENCH_ROOT.startsWith(prefix)
      ? [`${t.Id ?? '?'} (prefix "${prefix}", ${t.TopicArn ?? '?'})`]
      : [];
  });
}

/** radosgw and ceph-osd CPU time together, ms (0 when unreadable). */
const storageCpuMs = () => (daemonCpuMs('client.rgw.keyhole') ?? 0) + (daemonCpuMs('osd.0') ?? 0);
const SETTLE_WINDOW_MS = 250;
/** At most this much radosgw + ceph-osd CPU in a window counts as quiet (10% of one core; /proc counts in 10 ms ticks). */
const SETTLE_QUIET_CPU_MS = 25;
const SETTLE_MAX_MS = 10_000;

/**
 * Waits until radosgw and ceph-osd have been nearly idle for two windows in a row (at most
 * SETTLE_MAX_MS), and returns how long that took. Without it, the previous run's deletes and
 * BlueStore's deferred writes and compaction spill into the next run: in the committed results of
 * 2026-11-22 the run that came first after the 20 × 20 MiB workload was the slowest of its row (direct
 * took that place twice in five repetitions, 2.99 s and 2.31 s against 1.89–2.18 s otherwise), which
 * is what put direct's median below keyhole's.
 */
async function settleStorage(): Promise<number> {
  const started = performance.now();
  let last = storageCpuMs();
  let quietWindows = 0;
  while (quietWindows < 2 && performance.now() - started < SETTLE_MAX_MS) {
    await delay(SETTLE_WINDOW_MS);
    const now = storageCpuMs();
    quietWindows = now - last <= SETTLE_QUIET_CPU_MS ? quietWindows + 1 : 0;
    last = now;
  }
  return Math.round(performance.now() - started);
}

async function deletePrefix(prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await owner.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) return deleted;
    await owner.send(new DeleteObjectsCommand({ Bucket: s.bucket, Delete: { Objects: keys, Quiet: true } }));
    deleted += keys.length;
  }
}

async function collectGarbage(): Promise<void> {
  // Deleted objects hold their space until RGW's garbage collector runs; run it now, off the clock.
  try {
    await promisify(execFile)('radosgw-admin', ['gc', 'process', '--include-all'], {
      env: { ...process.env, CEPH_CONF: cephConf },
      timeout: 180_000,
    });
  } catch (err) {
    log(`  (radosgw-admin gc process failed, continuing: ${(err as Error).message.split('\n')[0]})`);
  }
}

// Times small GETs on one kept-alive connection. About 40 ms each means RGW's frontend waits on
// Nagle's algorithm against the client's delayed ACK (beast without tcp_nodelay=1): every answer
// with a body (GET, STS AssumeRole) then pays that stall, which is RGW's, not the strategies'.
async function responseDelayProbe(prefix: string): Promise<number> {
  const Key = `${prefix}probe.bin`;
  await owner.send(new PutObjectCommand({ Bucket: s.bucket, Key, Body: Buffer.alloc(16 * 1024, 7) }));
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    const started = performance.now();
    const out = await owner.send(new GetObjectCommand({ Bucket: s.bucket, Key }));
    await out.Body!.transformToByteArray();
    if (i > 0) times.push(performance.now() - started);
  }
  return median(times);
}

function describeMachine(): { machine: string; software: string } {
  const cpus = os.cpus();
  let distro = os.type();
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch {
    // Not Linux: the kernel name will do.
  }
  let ceph = 'Ceph RGW';
  try {
    ceph = execFileSync('radosgw', ['--version'], { encoding: 'utf8' }).trim().split(' (')[0]!;
  } catch {
    // Left generic.
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return {
    machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${distro} (${os.release()}), load average at start ${load}`,
    software: `Node ${process.version}, ${ceph} (single node, bluestore on a file, loopback HTTP), @aws-sdk/* 3.1163.0`,
  };
}

async function main(): Promise<void> {
  const startLoad = loadAverage();
  if (isBusy(startLoad) && args['allow-busy'] !== true) {
    process.stderr.write(
      `bench: not starting: the 1-minute load average is ${startLoad} on ${cores()} cores, so other work would compete with every run; ` +
        'wait for a quiet machine, or pass --allow-busy (busy runs are then flagged in the results)\n',
    );
    process.exit(2);
  }
  log(`bench: results go to ${outDir}${args.publish === true ? ' (--publish: the committed results)' : ''}`);
  log('bench: making sure the local RGW stack is up');
  execFileSync('bash', [join(ROOT, 'infra/local/up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const hooked = await notificationsOnBenchPrefix();
  if (hooked.length > 0) {
    process.stderr.write(
      `bench: not starting: bucket ${s.bucket} notifies ${hooked.join(', ')} of every upload under ${BENCH_ROOT}; ` +
        'RGW would push each one before answering, so the bench would time the push. Remove that notification or narrow its prefix\n',
    );
    process.exit(2);
  }
  const issuer = await createBenchIssuer();
  const env = { [PUBLIC_JWK_ENV]: JSON.stringify(issuer.publicJwk) };
  const [broker, presign] = await Promise.all([startApp('broker-main.ts', env), startApp('presign-main.ts', env)]);
  const apps: Record<Strategy, AppProcess | undefined> = {
    direct: undefined,
    keyhole: broker,
    'presigned-put': presign,
    'presigned-put-batch': presign,
    'presigned-post': presign,
    'presigned-multipart': presign,
    'presigned-get': presign,
  };
  const { machine, software } = describeMachine();
  log(`bench: ${quick ? 'QUICK' : 'FULL'} mode, ${reps} runs per cell, interleaved round-robin`);
  log(`  machine: ${machine}`);
  log(`  software: ${software}`);
  for (const w of workloads) {
    log(
      `  ${w.name}: ${w.count} × ${w.sizeBytes} B; concurrency ${w.shape.objectConcurrency} objects × ${w.shape.queueSize} parts; part size ${w.shape.partSizeBytes / MiB} MiB; strategies ${w.strategies.join(', ')}`,
    );
  }

  const bodies = new Map<number, Uint8Array>();
  for (const w of workloads)
    if (!bodies.has(w.sizeBytes)) bodies.set(w.sizeBytes, randomFillSync(Buffer.alloc(w.sizeBytes)));
  const masterPrefix = `bench-masters/${randomBytes(6).toString('hex')}/`;
  for (const w of workloads.filter((x) => x.kind === 'download')) {
    await new Upload({
      client: owner,
      params: { Bucket: s.bucket, Key: masterPrefix + w.name, Body: bodies.get(w.sizeBytes)! },
      partSize: w.shape.partSizeBytes,
      queueSize: 4,
    }).done();
  }

  // Warm-up, not recorded: loads and JIT-compiles every strategy's code path (SDK, fetch, client,
  // servers) once, so the first measured run of a strategy is not also its cold start.
  log('bench: warming up every strategy (not recorded)');
  const warmFiles = [
    ...Array.from({ length: 4 }, (_, i) => ({ key: `s${i}.bin`, body: randomFillSync(Buffer.alloc(16 * 1024)) })),
    { key: 'm.bin', body: randomFillSync(Buffer.alloc(10 * MiB)) },
  ];
  const warmShape = { objectConcurrency: 2, queueSize: 2, partSizeBytes: PART_SIZE };
  // Every upload strategy of the workloads, once.
  const uploadStrategies = [...new Set(workloads.flatMap((w) => (w.kind === 'upload' ? w.strategies : [])))];
  for (const strategy of uploadStrategies) {
    const sub = `bench-${randomBytes(6).toString('hex')}`;
    const ctx = {
      stack: s,
      brokerUrl: broker.url,
      presignUrl: presign.url,
      token: await issuer.mint(sub),
      prefix: benchPrefix(sub),
    };
    await upload(strategy, ctx, warmFiles, warmShape);
    if (strategy === 'direct' || strategy === 'keyhole' || strategy === 'presigned-multipart') {
      const reader = strategy === 'presigned-multipart' ? 'presigned-get' : strategy;
      await download(reader, ctx, 'm.bin', warmShape);
    }
    await deletePrefix(ctx.prefix);
  }
  const probe = await responseDelayProbe(masterPrefix);
  log(`  RGW probe: sequential 16 KiB GET on a kept-alive connection, p50 ${probe.toFixed(1)} ms`);

  const runs = new Map<string, { runs: Run[]; latencies: number[] }>();
  const cell = (w: string, st: string) => {
    const id = `${w}|${st}`;
    if (!runs.has(id)) runs.set(id, { runs: [], latencies: [] });
    return runs.get(id)!;
  };

  async function runCell(w: Workload, strategy: Strategy): Promise<void> {
    const sub = `bench-${randomBytes(6).toString('hex')}`;
    const prefix = benchPrefix(sub);
    const ctx: RunContext = {
      stack: s,
      brokerUrl: broker.url,
      presignUrl: presign.url,
      token: await issuer.mint(sub),
      prefix,
    };
    const body = bodies.get(w.sizeBytes)!;
    const files = Array.from({ length: w.count }, (_, i) => ({ key: `f${i}.bin`, body }));
    if (w.kind === 'download') {
      await owner.send(
        new CopyObjectCommand({
          Bucket: s.bucket,
          Key: prefix + files[0]!.key,
          CopySource: `${s.bucket}/${masterPrefix}${w.name}`,
        }),
      );
    }
    const app = apps[strategy];
    const settleMs = await settleStorage();
    const loadBefore = loadAverage();
    const before = await app?.stats();
    const cpu0 = process.cpuUsage();
    const rgw0 = daemonCpuMs('client.rgw.keyhole');
    const osd0 = daemonCpuMs('osd.0');
    const started = performance.now();
    let latencies: number[];
    if (w.kind === 'upload') {
      latencies = await upload(strategy as (typeof w.strategies)[number], ctx, files, w.shape);
    } else {
      const t = performance.now();
      const bytes = await download(strategy as (typeof w.strategies)[number], ctx, files[0]!.key, w.shape);
      if (bytes !== w.sizeBytes) throw new Error(`${w.name} ${strategy}: read ${bytes} bytes, expected ${w.sizeBytes}`);
      latencies = [performance.now() - t];
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rgw1 = daemonCpuMs('client.rgw.keyhole');
    const osd1 = daemonCpuMs('osd.0');
    const after = await app?.stats();
    const loadAfter = loadAverage();
    const stored = await deletePrefix(prefix);
    if (stored !== w.count) throw new Error(`${w.name} ${strategy}: ${stored} objects stored, expected ${w.count}`);
    const run: Run = {
      seconds: round(seconds),
      mibPerS: round((w.count * w.sizeBytes) / MiB / seconds),
      ...(w.count > 1 ? { objPerS: round(w.count / seconds) } : {}),
      appRequests: before && after ? after.requests - before.requests : 0,
      appCpuMs: before && after ? round(after.cpuMs - before.cpuMs) : 0,
      stsCalls: before && after ? after.stsCalls - before.stsCalls : 0,
      clientCpuMs: round((cpu.user + cpu.system) / 1000),
      ...(rgw0 !== undefined && rgw1 !== undefined ? { rgwCpuMs: round(rgw1 - rgw0) } : {}),
      ...(osd0 !== undefined && osd1 !== undefined ? { osdCpuMs: round(osd1 - osd0) } : {}),
      ...(w.count > 1
        ? { latencyP50Ms: round(percentile(latencies, 50)), latencyP99Ms: round(percentile(latencies, 99)) }
        : {}),
      loadBefore,
      loadAfter,
      settleMs,
    };
    const c = cell(w.name, strategy);
    c.runs.push(run);
    c.latencies.push(...latencies);
    log(
      `  ${w.name.padEnd(22)} ${strategy.padEnd(20)} ${run.seconds.toFixed(2).padStart(7)} s  ${String(run.objPerS ?? run.mibPerS).padStart(7)} ${run.objPerS ? 'obj/s' : 'MiB/s'}  app ${run.appRequests} req ${run.appCpuMs} ms  sts ${run.stsCalls}  load ${loadBefore} → ${loadAfter}  settled ${settleMs} ms`,
    );
  }

  const capacityCases: CapacityCase[] = ['same-subject (cache hit)', 'distinct subjects'];
  async function runCapacity(kind: CapacityCase): Promise<void> {
    const n = capacityRequests[kind];
    const tokens =
      kind === 'distinct subjects'
        ? await Promise.all(Array.from({ length: n }, () => issuer.mint(`bench-${randomBytes(6).toString('hex')}`)))
        : [await issuer.mint(`bench-${randomBytes(6).toString('hex')}`)];
    const before = await broker.stats();
    const cpu0 = process.cpuUsage();
    const r = await credentialLoad(broker.url, tokens, { amount: n, connections: CONNECTIONS });
    const cpu = process.cpuUsage(cpu0);
    const after = await broker.stats();
    const run: Run = {
      seconds: round(r.seconds),
      reqPerS: round(r.ok / r.seconds),
      appRequests: after.requests - before.requests,
      appCpuMs: round(after.cpuMs - before.cpuMs),
      stsCalls: after.stsCalls - before.stsCalls,
      clientCpuMs: round((cpu.user + cpu.system) / 1000),
      latencyP50Ms: r.p50Ms,
      latencyP99Ms: r.p99Ms,
      errors: r.failed,
    };
    cell('broker-credentials', kind).runs.push(run);
    log(
      `  broker-credentials     ${kind.padEnd(26)} ${run.reqPerS} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  sts ${run.stsCalls}  failed ${r.failed}`,
    );
  }

  try {
    for (let rep = 0; rep < reps; rep++) {
      log(`bench: repetition ${rep + 1}/${reps}`);
      for (const w of workloads) {
        // Rotate the order each repetition so no strategy always runs first (cold) or last.
        const order = w.strategies.map((_, i) => w.strategies[(i + rep) % w.strategies.length]!);
        for (const strategy of order) await runCell(w, strategy);
      }
      for (const kind of rep % 2 ? [...capacityCases].reverse() : capacityCases) await runCapacity(kind);
      await collectGarbage();
    }
  } finally {
    broker.stop();
    presign.stop();
    await deletePrefix(masterPrefix).catch(() => 0);
  }

  const records: BenchRecord[] = [];
  // Busy runs are judged against the bench's own typical load (see isBusyRun), so only once all ran.
  const typicalLoad = median(
    [...runs.values()].flatMap((c) => c.runs.flatMap((r) => (r.loadBefore === undefined ? [] : [r.loadBefore]))),
  );
  for (const c of runs.values()) {
    c.runs = c.runs.map((r) =>
      r.loadBefore !== undefined && isBusyRun(r.loadBefore, typicalLoad) ? { ...r, busy: true } : r,
    );
  }
  const summarize = (workload: string, strategy: string, params: BenchRecord['params'], latencies?: number[]) => {
    const c = cell(workload, strategy);
    const bySeconds = [...c.runs].sort((a, b) => a.seconds - b.seconds);
    const fastest = bySeconds[0]!;
    const slowest = bySeconds.at(-1)!;
    const busyRuns = c.runs.filter((r) => r.busy === true).length;
    const med = (k: keyof Run) =>
      c.runs[0]![k] === undefined ? undefined : round(median(c.runs.map((r) => r[k] as number)));
    const pick = (r: Run) => ({
      seconds: r.seconds,
      ...(r.mibPerS !== undefined ? { mibPerS: r.mibPerS } : {}),
      ...(r.objPerS !== undefined ? { objPerS: r.objPerS } : {}),
      ...(r.reqPerS !== undefined ? { reqPerS: r.reqPerS } : {}),
    });
    const medianRates = Object.fromEntries(
      (['mibPerS', 'objPerS', 'reqPerS'] as const).flatMap((k) => (med(k) === undefined ? [] : [[k, med(k)]])),
    );
    records.push({
      workload,
      strategy,
      params,
      runs: c.runs,
      median: { seconds: med('seconds')!, ...medianRates },
      min: pick(fastest),
      max: pick(slowest),
      ...(busyRuns > 0 ? { busyRuns } : {}),
      appRequests: med('appRequests')!,
      appCpuMs: med('appCpuMs')!,
      stsCalls: med('stsCalls')!,
      ...(latencies
        ? { latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) } }
        : med('latencyP50Ms') !== undefined
          ? { latencyMs: { p50: med('latencyP50Ms')!, p99: med('latencyP99Ms')! } }
          : {}),
    });
  };
  for (const w of workloads) {
    for (const strategy of w.strategies) {
      summarize(
        w.name,
        strategy,
        { objects: w.count, objectBytes: w.sizeBytes, ...w.shape },
        w.count > 1 ? cell(w.name, strategy).latencies : undefined,
      );
    }
  }
  for (const kind of capacityCases) {
    summarize('broker-credentials', kind, { connections: CONNECTIONS, requests: capacityRequests[kind] });
  }
  assertRecords(records);

  const roles: Record<string, Role> = Object.fromEntries(workloads.map((w) => [w.name, w.role]));
  const meta: Meta = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    repetitions: reps,
    machine,
    software,
    roles,
    notes: [
      'Every app server (broker, presigned baseline) runs in its own Node process; its CPU is read from that process.',
      'Presigned multipart returns all part URLs in its create answer (2 app requests per object, the fewest that design allows).',
      "presigned-put-batch: one app request presigns every object of the run (1 app request per run); each object's latency includes that request.",
      "Every S3 request goes through the AWS SDK's Node HTTP handler (node:http, keep-alive agent), presigned ones included; app requests use fetch, as the client module does.",
      `Before each run the bench waits until radosgw and ceph-osd are idle (two ${SETTLE_WINDOW_MS} ms windows under ${SETTLE_QUIET_CPU_MS} ms CPU, at most ${SETTLE_MAX_MS / 1000} s; median wait ${round(median([...runs.values()].flatMap((c) => c.runs.flatMap((r) => (r.settleMs === undefined ? [] : [r.settleMs])))) / 1000)} s), so one run's deletes and flushes do not land in the next.`,
      'Per-object latency includes any app-server round trip the strategy needs before the upload.',
      'Before measuring, every strategy ran once unrecorded (warm-up), so no measured run is a cold start.',
      `Spread: every row shows the median, fastest and slowest of its runs. A run is flagged busy when the 1-minute load average as it started was above the ${cores()} cores and above ${BUSY_FACTOR} × the bench's median starting load (${round(typicalLoad)}), i.e. other work competed with it; ${records.reduce((n, r) => n + (r.busyRuns ?? 0), 0)} of ${records.reduce((n, r) => n + r.runs.length, 0)} runs were.`,
      `RGW response-delay probe (sequential 16 KiB GETs on one kept-alive connection): p50 ${probe.toFixed(1)} ms.` +
        (probe > 25
          ? ' About 40 ms means this RGW was started without beast tcp_nodelay=1 (Nagle against delayed ACK): every' +
            ' answer with a body, including STS AssumeRole and GET, pays that stall. It is RGW configuration, not Keyhole;' +
            ' restart the stack (npm run local:down && npm run local:up) to pick up tcp_nodelay=1.'
          : ''),
    ],
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(records, null, 2) + '\n');
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(records, meta));
  writeFileSync(join(outDir, 'latest.svg'), renderSvg(records, meta));
  log('');
  for (const t of checkTargets(records, meta))
    log(`  target: ${t.target}: ${t.value} ${t.met === false ? 'MISSED' : t.met ? 'met' : ''}`);
  log(`bench: wrote ${join(outDir, 'latest.{json,md,svg}')}`);
  if (args['skip-browser'] === true) return;

  const browserWorkloads = quick ? BROWSER_QUICK : BROWSER_FULL;
  for (const w of browserWorkloads) {
    log(
      `  ${w.name}: ${w.count} × ${w.sizeBytes} B; ${w.shape.objectConcurrency} objects in flight; strategies ${w.strategies.join(', ')}`,
    );
  }
  const { records: browserRecords, browser } = await runBrowserBench({
    issuer,
    workloads: browserWorkloads,
    reps,
    log,
    deletePrefix,
  });
  assertRecords(browserRecords);
  // The tab's heap on a 1 GiB upload of a file from disk (full mode only: it writes a 1 GiB file).
  const fileHeap = quick
    ? undefined
    : await measureFileUploadHeap({ issuer, sizeBytes: 1024 * 1024 * 1024, log, deletePrefix });
  writeFileSync(join(outDir, 'browser.json'), JSON.stringify(browserRecords, null, 2) + '\n');
  const { machine: browserMachine } = describeMachine();
  writeFileSync(
    join(outDir, 'browser.md'),
    renderBrowserMarkdown(browserRecords, {
      date: new Date().toISOString(),
      mode: meta.mode,
      repetitions: reps,
      machine: browserMachine,
      software: `${software}, ${browser}`,
      ...(fileHeap ? { fileHeap } : {}),
    }),
  );
  for (const t of checkBrowserTargets(browserRecords))
    log(`  target: ${t.target}: ${t.value} ${t.met === false ? 'MISSED' : t.met ? 'met' : ''}`);
  log(`bench: wrote ${join(outDir, 'browser.{json,md}')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
