// Capacity of one broker process on one core (`npm run bench:broker`; not a test: it prints figures
// and writes test/bench/results/broker.json and broker.md). The broker (`server/main.ts`, configured
// by environment as an operator would) runs under `taskset -c 0`; this process, the load generator
// (autocannon), pins itself to core 1. Cases, POST /v1/credentials:
//   - cache hit: one subject, the broker's in-process credential cache answers;
//   - cache hit, logs off: the same with KEYHOLE_LOG_LEVEL=silent (what request logging costs);
//   - cache hit, token cache off: the same with KEYHOLE_JWT_CACHE_SECONDS=0 (every request checks
//     the token's RS256 signature, as a client with a new token per request would cost);
//   - cache miss: a new subject per request, each an STS AssumeRole on the local RGW;
//   - Redis-backed hit: KEYHOLE_REDIS_URL on a private redis-server, one subject;
//   - the Lambda handler (server/lambda) in-process, one request at a time (a Lambda container
//     serves one request at a time), cache hits.
// RGW and redis-server are not pinned: they share the machine with everything else.
//
//   npm run bench:broker [-- --quick]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { credentialLoad } from './capacity.js';
import { freePort, startRedis, waitFor, type TestRedis } from '../helpers/redis.js';
import { testIssuer } from '../helpers/jwt.js';
import { stackBrokerEnv } from '../helpers/stack.js';
import { httpEvent } from '../lambda/events.js';

const loadAverageAtStart = loadavg().map((n) => Number(n.toFixed(2)));
const quick = process.argv.includes('--quick');
const HIT_SECONDS = quick ? 3 : 10;
const MISS_REQUESTS = quick ? 150 : 600;
const CONNECTIONS = 16;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

function pin(pid: number, core: number): boolean {
  return spawnSync('taskset', ['-cp', String(core), String(pid)], { encoding: 'utf8' }).status === 0;
}
const pinned = cpus().length >= 2 && pin(process.pid, 1);
if (!pinned) process.stdout.write('taskset or a second core is missing: nothing is pinned\n');

const issuer = await testIssuer('https://issuer.bench.test/', 'keyhole-bench');
const baseEnv: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  NODE_ENV: 'production',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...stackBrokerEnv(issuer),
  KEYHOLE_RATE_LIMIT_SUBJECT: '1000000/60',
  KEYHOLE_RATE_LIMIT_ADDRESS: '1000000/60',
  KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: '1',
  KEYHOLE_LOG_FORMAT: 'json',
  KEYHOLE_HOST: '127.0.0.1',
};

interface Broker {
  url: string;
  rssMiB(): number;
  /** CPU time (user + system) the broker process has used, in seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** `server/main.ts` under `taskset -c 0`, logs to /dev/null (written, as to a log collector, not kept). */
async function startPinned(env: Record<string, string>): Promise<Broker> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const devNull = openSync('/dev/null', 'w');
  const args = ['--import', 'tsx', 'server/main.ts'];
  const child: ChildProcess = pinned
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], {
        cwd: REPO,
        env: { ...baseEnv, ...env, PORT: String(port) },
        stdio: ['ignore', devNull, 'pipe'],
      })
    : spawn(process.execPath, args, {
        cwd: REPO,
        env: { ...baseEnv, ...env, PORT: String(port) },
        stdio: ['ignore', devNull, 'pipe'],
      });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(
    `broker on ${url}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`broker exited ${child.exitCode}: ${err.slice(-800)}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
    },
    30_000,
  );
  return {
    url,
    // The node process is taskset's child (exec'd: same pid).
    rssMiB: () => {
      const status = spawnSync('cat', [`/proc/${child.pid}/status`], { encoding: 'utf8' }).stdout;
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}

interface Row {
  case: string;
  requests: number;
  failed: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of one core the broker got (its CPU seconds / wall seconds): the machine is shared. */
  cpuShare?: number;
  /** Requests per CPU-second of the broker: what one whole core would serve. */
  perCoreSecond?: number;
  note: string;
}

async function load(
  url: string,
  tokens: readonly string[],
  opts: { duration: number; connections?: number } | { amount: number; connections?: number },
): Promise<Omit<Row, 'case' | 'note'>> {
  const r = await credentialLoad(url, tokens, { ...opts, connections: opts.connections ?? CONNECTIONS });
  return {
    requests: r.ok,
    failed: r.failed,
    seconds: Number(r.seconds.toFixed(2)),
    rps: Math.round(r.ok / r.seconds),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
  };
}

/** Runs `run` and adds the broker's CPU share and requests per CPU-second. */
async function measured(broker: Broker, run: () => ReturnType<typeof load>) {
  const cpu0 = broker.cpuSeconds();
  const r = await run();
  const cpu = broker.cpuSeconds() - cpu0;
  return {
    ...r,
    cpuShare: Number((cpu / r.seconds).toFixed(2)),
    perCoreSecond: Math.round(r.requests / cpu),
  };
}

const exp = () => Math.floor(Date.now() / 1000) + 3600;
const rows: Row[] = [];
const report = (row: Row) => {
  rows.push(row);
  process.stdout.write(
    `${row.case.padEnd(34)} ${String(row.rps).padStart(6)} req/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  (${row.requests} ok, ${row.failed} failed)${row.cpuShare === undefined ? '' : `  broker CPU ${row.cpuShare} core, ${row.perCoreSecond} req per CPU-second`}\n`,
  );
};
const rss: Record<string, number> = {};

async function hitCase(name: string, env: Record<string, string>, note: string) {
  const broker = await startPinned(env);
  try {
    const token = await issuer.sign({ sub: `bench-${randomBytes(4).toString('hex')}`, exp: exp() });
    await load(broker.url, [token], { duration: 1 }); // warm-up: JIT, first STS call, keep-alive
    report({
      case: name,
      ...(await measured(broker, () => load(broker.url, [token], { duration: HIT_SECONDS }))),
      note,
    });
    rss[name] = Math.round(broker.rssMiB());
  } finally {
    await broker.stop();
  }
}

// 1. Cache hits, with the default (info) request logging, with logging off, and with the verified-token cache off.
await hitCase('cache hit', {}, 'one subject; in-process cache; info logs (JSON to /dev/null)');
await hitCase('cache hit, logs off', { KEYHOLE_LOG_LEVEL: 'silent' }, 'as above, KEYHOLE_LOG_LEVEL=silent');
await hitCase(
  'cache hit, token cache off',
  { KEYHOLE_JWT_CACHE_SECONDS: '0' },
  'as the first, KEYHOLE_JWT_CACHE_SECONDS=0: RS256 signature checked on every request',
);

// 2. Cache misses: a new subject per request, each one STS AssumeRole on RGW.
{
  const broker = await startPinned({});
  try {
    const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.sign({ sub: `warm-${i}`, exp: exp() })));
    await load(broker.url, warm, { amount: warm.length, connections: 4 });
    const run = randomBytes(4).toString('hex');
    const tokens = await Promise.all(
      Array.from({ length: MISS_REQUESTS }, (_, i) => issuer.sign({ sub: `miss-${run}-${i}`, exp: exp() })),
    );
    report({
      case: 'cache miss (STS)',
      ...(await measured(broker, () => load(broker.url, tokens, { amount: MISS_REQUESTS }))),
      note: 'new subject per request: one AssumeRole each on the local RGW (not pinned)',
    });
  } finally {
    await broker.stop();
  }
}

// 3. Redis-backed hits.
let redis: TestRedis | undefined;
try {
  redis = await startRedis();
  await hitCase(
    'Redis-backed hit',
    {
      KEYHOLE_REDIS_URL: redis.url,
      KEYHOLE_REDIS_KEYS: randomBytes(32).toString('base64'),
      KEYHOLE_REDIS_PREFIX: redis.prefix,
    },
    'KEYHOLE_REDIS_URL: cache and rate limits in a private redis-server (not pinned)',
  );
} finally {
  await redis?.stop();
}

// 4. The Lambda handler, in this process (core 1), one request at a time.
{
  const lambdaEnv = { ...baseEnv, KEYHOLE_LOG_LEVEL: 'silent' };
  Object.assign(process.env, lambdaEnv);
  const { handler } = await import('../../server/lambda/index.js');
  const event = httpEvent('POST', '/v1/credentials', {
    headers: { authorization: `Bearer ${await issuer.sign({ sub: 'bench-lambda', exp: exp() })}` },
  });
  const first = await handler(event);
  if (first.statusCode !== 200) throw new Error(`lambda handler answered ${first.statusCode}: ${first.body}`);
  const n = quick ? 2000 : 10_000;
  for (let i = 0; i < 500; i++) await handler(event);
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await handler(event);
    samples.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  samples.sort((a, b) => a - b);
  const pct = (p: number) => Number(samples[Math.ceil((p / 100) * samples.length) - 1]!.toFixed(3));
  report({
    case: 'Lambda handler in-process',
    requests: n,
    failed: 0,
    seconds: Number(seconds.toFixed(2)),
    rps: Math.round(n / seconds),
    p50Ms: pct(50),
    p99Ms: pct(99),
    note: 'server/lambda handler, serial (one container = one request at a time), cache hits, logs off',
  });
}

const machine = {
  cpu: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageBefore: loadAverageAtStart,
  loadAverageAfter: loadavg().map((n) => Number(n.toFixed(2))),
  pinned,
};
const result = {
  date: new Date().toISOString(),
  quick,
  hitSeconds: HIT_SECONDS,
  connections: CONNECTIONS,
  machine,
  rows,
  rssMiB: rss,
};
if (!quick) {
  writeFileSync(`${RESULTS}broker.json`, JSON.stringify(result, null, 2) + '\n');
  const md = [
    '# Broker capacity on one core',
    '',
    `Run ${result.date} with \`npm run bench:broker\` on ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}. ` +
      `Broker pinned to core 0 (\`taskset -c 0\`), autocannon (${CONNECTIONS} connections) on core 1; RGW and redis-server unpinned. ` +
      `The machine is shared with other work: load average ${machine.loadAverageBefore.join(' ')} before, ${machine.loadAverageAfter.join(' ')} after.`,
    '',
    '| Case | req/s | p50 ms | p99 ms | requests | failed | broker CPU (cores) | req per broker CPU-second | note |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${r.rps} | ${r.p50Ms} | ${r.p99Ms} | ${r.requests} | ${r.failed} | ${r.cpuShare ?? '–'} | ${r.perCoreSecond ?? '–'} | ${r.note} |`,
    ),
    '',
    `Broker RSS after each hit run (MiB): ${Object.entries(rss)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ].join('\n');
  writeFileSync(`${RESULTS}broker.md`, md);
  process.stdout.write(`wrote ${RESULTS}broker.json and broker.md\n`);
}
