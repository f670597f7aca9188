// Benchmark of `keyhole/lambda` (not a test: nothing here asserts speed). Measures, on this machine
// and against the local RGW:
//   - the bundle the stack deploys (infra/aws/bundle.ts): bytes, gzipped bytes, biggest packages;
//   - cold initialisation: a fresh Node process imports the bundle and answers its first request
//     (GET /healthz), then its first POST /v1/credentials (JWT verification + one STS AssumeRole);
//   - warm per-request latency of the bundled handler, in-process (no network between API Gateway
//     and the function is modelled: this is the function's own time);
//   - the HTTP API v2 adapter against alternatives, around the same Express app: Keyhole's own
//     (server/lambda/adapter.ts), Node's HTTP parser over an in-memory duplex pair, and
//     @codegenie/serverless-express when KEYHOLE_BENCH_SERVERLESS_EXPRESS names a directory where
//     it is installed (npm install --prefix DIR @codegenie/serverless-express), plus Express over
//     loopback TCP as the reference.
// Writes test/bench/results/lambda.json and lambda.md.
//
//   node --import tsx test/bench/lambda.ts [--quick]
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type RequestListener } from 'node:http';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleLambda } from '../../infra/aws/bundle.js';
import { httpApiHandler, type HttpApiEvent, type HttpApiResult } from '../../server/lambda/adapter.js';
import { lambdaBroker } from '../../server/lambda/init.js';
import { testIssuer } from '../helpers/jwt.js';
import { stackBrokerEnv } from '../helpers/stack.js';
import { httpEvent } from '../lambda/events.js';

const quick = process.argv.includes('--quick');
const COLD_RUNS = quick ? 3 : 10;
const WARM_REQUESTS = quick ? 300 : 3000;
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const ADAPTER_SOURCE = fileURLToPath(new URL('../../server/lambda/adapter.ts', import.meta.url));

const issuer = await testIssuer('https://issuer.bench.test/', 'keyhole-bench');
const env: Record<string, string> = {
  ...stackBrokerEnv(issuer),
  KEYHOLE_CORS_ORIGINS: 'https://app.example.com',
  KEYHOLE_RATE_LIMIT_SUBJECT: 'off',
  KEYHOLE_RATE_LIMIT_ADDRESS: 'off',
  KEYHOLE_ACCEPT_PUBLIC_ACL_RISK: '1',
  KEYHOLE_LOG_LEVEL: 'silent',
  NODE_ENV: 'production',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const round = (n: number, digits = 3) => Number(n.toFixed(digits));
function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0]!),
  };
}
async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(100, n); i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

// --- 1. The bundle. ---
const work = mkdtempSync(join(tmpdir(), 'keyhole-lambda-bench-'));
const bundle = bundleLambda(join(work, 'bundle'));
process.stdout.write(`bundle: ${bundle.bytes} bytes, ${bundle.gzipBytes} gzipped\n`);

const token = await issuer.sign({ sub: 'bench-user', exp: Math.floor(Date.now() / 1000) + 3600 });
const events = {
  health: httpEvent('GET', '/healthz'),
  credentials: httpEvent('POST', '/v1/credentials', { headers: { authorization: `Bearer ${token}` } }),
  preflight: httpEvent('OPTIONS', '/v1/credentials', {
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
  }),
  badToken: httpEvent('POST', '/v1/credentials', { headers: { authorization: 'Bearer not.a.jwt' } }),
};

// --- 2. Cold initialisation, one fresh process per run. ---
const coldScript = `
  const t0 = performance.now();
  const { handler } = await import(${JSON.stringify(bundle.file)});
  const t1 = performance.now();
  const health = await handler(JSON.parse(process.env.HEALTH));
  const t2 = performance.now();
  const creds = await handler(JSON.parse(process.env.CREDENTIALS));
  const t3 = performance.now();
  if (health.statusCode !== 200 || creds.statusCode !== 200) throw new Error('unexpected status ' + health.statusCode + ' ' + creds.statusCode + ' ' + creds.body);
  process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstResponseMs: t2 - t0, firstCredentialsMs: t3 - t2, rssMiB: process.memoryUsage().rss / 1048576 }));`;
const cold: {
  importMs: number;
  firstResponseMs: number;
  firstCredentialsMs: number;
  rssMiB: number;
  processMs: number;
}[] = [];
for (let i = 0; i < COLD_RUNS; i++) {
  const started = performance.now();
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', coldScript], {
    env: {
      PATH: process.env.PATH,
      ...env,
      HEALTH: JSON.stringify(events.health),
      // A new subject per run: every cold start makes its one STS call.
      CREDENTIALS: JSON.stringify(
        httpEvent('POST', '/v1/credentials', {
          headers: { authorization: `Bearer ${await issuer.sign({ sub: `bench-cold-${i}-${Date.now()}` })}` },
        }),
      ),
    },
  });
  cold.push({ ...JSON.parse(stdout), processMs: performance.now() - started });
}
process.stdout.write(`cold: ${JSON.stringify(stats(cold.map((c) => c.firstResponseMs)))}\n`);

// --- 3. Warm requests through the bundled handler, in this process. ---
Object.assign(process.env, env);
const { handler: bundled } = (await import(bundle.file)) as {
  handler: (e: HttpApiEvent) => Promise<HttpApiResult>;
};
const expected: Record<keyof typeof events, number> = { health: 200, credentials: 200, preflight: 204, badToken: 401 };
const warm: Record<string, ReturnType<typeof stats>> = {};
for (const [name, event] of Object.entries(events)) {
  const status = (await bundled(event)).statusCode;
  if (status !== expected[name as keyof typeof events]) throw new Error(`${name}: answered ${status}`);
  warm[name] = stats(await timeEach(WARM_REQUESTS, () => bundled(event)));
  process.stdout.write(`warm ${name}: ${JSON.stringify(warm[name])}\n`);
}

// --- 4. Adapters around the same Express app. ---
const { app } = lambdaBroker(env);
const server = createServer({}, app as RequestListener);
server.on('clientError', (err: NodeJS.ErrnoException, socket) =>
  socket.end(`HTTP/1.1 ${err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400} Bad Request\r\nConnection: close\r\n\r\n`),
);
/** The alternative considered: Node's own HTTP parser on both sides of an in-memory duplex pair. */
function duplexHandler(event: HttpApiEvent): Promise<{ statusCode: number; body: string }> {
  return new Promise((resolve, reject) => {
    const [client, srv] = duplexPair();
    Object.defineProperties(srv, {
      remoteAddress: { value: event.requestContext.http.sourceIp },
      encrypted: { value: true },
    });
    server.emit('connection', srv);
    const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : undefined;
    const req = request(
      {
        method: event.requestContext.http.method,
        path: event.rawPath + (event.rawQueryString ? `?${event.rawQueryString}` : ''),
        headers: { ...event.headers, connection: 'close' },
        createConnection: () => client,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const adapters: Record<string, ((e: HttpApiEvent) => Promise<{ statusCode: number }>) | string> = {
  'keyhole: IncomingMessage/ServerResponse in memory (server/lambda/adapter.ts)': httpApiHandler(
    app as RequestListener,
  ),
  'Node HTTP parser over a duplex pair': duplexHandler,
};
let serverlessExpressBytes: number | undefined;
const sxDir = process.env.KEYHOLE_BENCH_SERVERLESS_EXPRESS;
if (sxDir) {
  const require = createRequire(join(sxDir, 'node_modules/'));
  const sx = require('@codegenie/serverless-express') as (
    o: object,
  ) => (e: unknown, c: unknown) => Promise<{ statusCode: number }>;
  const version = (require('@codegenie/serverless-express/package.json') as { version: string }).version;
  const h = sx({ app, logSettings: { level: 'error' } });
  adapters[`@codegenie/serverless-express ${version}`] = (e) => h(e, {});
  const srcDir = join(sxDir, 'node_modules/@codegenie/serverless-express/src');
  const walk = (d: string): number =>
    readdirSync(d, { withFileTypes: true }).reduce(
      (n, f) =>
        n + (f.isDirectory() ? walk(join(d, f.name)) : f.name.endsWith('.js') ? statSync(join(d, f.name)).size : 0),
      0,
    );
  serverlessExpressBytes = walk(srcDir);
} else {
  adapters['@codegenie/serverless-express'] =
    'not measured: set KEYHOLE_BENCH_SERVERLESS_EXPRESS to a directory where it is installed';
}
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const overTcp = (event: HttpApiEvent) =>
  new Promise<{ statusCode: number }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: event.requestContext.http.method,
        path: event.rawPath,
        headers: event.headers as Record<string, string>,
        agent,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ statusCode: res.statusCode! }));
      },
    );
    req.on('error', reject);
    req.end();
  });
adapters['reference: Express over loopback TCP (keep-alive)'] = overTcp;

const adapterResults: Record<string, Record<string, ReturnType<typeof stats>> | string> = {};
// Interleaved: ROUNDS rounds, each running every adapter in turn (order rotating), so that no adapter
// gains from running after the others have warmed up the broker's own code.
const ROUNDS = 5;
const measured = Object.entries(adapters).filter(
  (e): e is [string, (e: HttpApiEvent) => Promise<{ statusCode: number }>] => {
    if (typeof e[1] === 'string') adapterResults[e[0]] = e[1];
    return typeof e[1] !== 'string';
  },
);
for (const [name, fn] of measured) {
  const check = await fn(events.credentials);
  if (check.statusCode !== 200) throw new Error(`${name}: credentials answered ${check.statusCode}`);
}
const samples = new Map<string, { health: number[]; credentials: number[] }>(
  measured.map(([name]) => [name, { health: [], credentials: [] }]),
);
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < measured.length; i++) {
    const [name, fn] = measured[(i + round) % measured.length]!;
    const bucket = samples.get(name)!;
    bucket.health.push(...(await timeEach(WARM_REQUESTS / ROUNDS, () => fn(events.health))));
    bucket.credentials.push(...(await timeEach(WARM_REQUESTS / ROUNDS, () => fn(events.credentials))));
  }
}
for (const [name, { health, credentials }] of samples) {
  adapterResults[name] = { health: stats(health), credentials: stats(credentials) };
  process.stdout.write(`adapter ${name}: ${JSON.stringify(adapterResults[name])}\n`);
}
agent.destroy();
server.close();

// --- Results. ---
const adapterSource = readFileSync(ADAPTER_SOURCE, 'utf8');
const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    loadAverage: (await import('node:os')).loadavg(),
  },
  note: 'Node and CPU of this machine, not Lambda (Node 22, arm64 Graviton). Cold start here excludes Lambda\u2019s own environment start and code download.',
  bundle: {
    bytes: bundle.bytes,
    gzipBytes: bundle.gzipBytes,
    packages: bundle.packages.slice(0, 12),
  },
  cold: {
    runs: cold.length,
    importMs: stats(cold.map((c) => c.importMs)),
    firstResponseMs: stats(cold.map((c) => c.firstResponseMs)),
    firstCredentialsMs: stats(cold.map((c) => c.firstCredentialsMs)),
    processMs: stats(cold.map((c) => c.processMs)),
    rssMiB: stats(cold.map((c) => c.rssMiB)),
  },
  warmMs: warm,
  adapters: {
    ownSource: { bytes: Buffer.byteLength(adapterSource), lines: adapterSource.split('\n').length },
    ...(serverlessExpressBytes !== undefined ? { serverlessExpressSourceBytes: serverlessExpressBytes } : {}),
    perRequestMs: adapterResults,
  },
};
writeFileSync(join(RESULTS, 'lambda.json'), JSON.stringify(results, null, 2) + '\n');

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const md = [
  '# keyhole/lambda benchmark',
  '',
  `Run ${results.date} with \`node --import tsx test/bench/lambda.ts${quick ? ' --quick' : ''}\` on ${results.machine.cpus} × ${results.machine.cpu}, Node ${results.machine.node}, load average ${results.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}, against the local Ceph RGW. ${results.note}`,
  '',
  '## Bundle (what `infra/aws` deploys)',
  '',
  `${kib(bundle.bytes)} minified ES module, ${kib(bundle.gzipBytes)} gzipped. Biggest packages:`,
  '',
  row(['Package', 'Bytes in bundle']),
  row(['---', '---']),
  ...bundle.packages.slice(0, 12).map((p) => row([p.name, kib(p.bytes)])),
  '',
  `## Cold initialisation (${cold.length} fresh processes)`,
  '',
  row(['Measure', 'p50 ms', 'p95 ms', 'min ms']),
  row(['---', '---', '---', '---']),
  row([
    'import of the bundle (module initialisation: config, broker, clients)',
    results.cold.importMs.p50,
    results.cold.importMs.p95,
    results.cold.importMs.min,
  ]),
  row([
    'import to first response (GET /healthz)',
    results.cold.firstResponseMs.p50,
    results.cold.firstResponseMs.p95,
    results.cold.firstResponseMs.min,
  ]),
  row([
    'then first POST /v1/credentials (JWT + one STS AssumeRole on RGW)',
    results.cold.firstCredentialsMs.p50,
    results.cold.firstCredentialsMs.p95,
    results.cold.firstCredentialsMs.min,
  ]),
  row([
    'whole process (node start to exit)',
    results.cold.processMs.p50,
    results.cold.processMs.p95,
    results.cold.processMs.min,
  ]),
  '',
  `RSS after the first credentials: ${results.cold.rssMiB.p50.toFixed(0)} MiB.`,
  '',
  `## Warm requests, in-process (${WARM_REQUESTS} each after 100 warm-up)`,
  '',
  row(['Request', 'p50 ms', 'p95 ms', 'p99 ms']),
  row(['---', '---', '---', '---']),
  ...Object.entries(warm).map(([name, st]) => row([name, st.p50, st.p95, st.p99])),
  '',
  '`credentials` is a cache hit (same subject): JWT verification, grant, session policy and the JSON answer, no STS call.',
  '',
  '## Adapter: HTTP API v2 event to the Express app',
  '',
  row(['Adapter', 'health p50 ms', 'health p95 ms', 'credentials p50 ms', 'credentials p95 ms']),
  row(['---', '---', '---', '---', '---']),
  ...Object.entries(adapterResults).map(([name, r]) =>
    typeof r === 'string'
      ? row([name, r, '', '', ''])
      : row([name, r.health!.p50, r.health!.p95, r.credentials!.p50, r.credentials!.p95]),
  ),
  '',
  `Keyhole's adapter is ${results.adapters.ownSource.lines} lines (${kib(results.adapters.ownSource.bytes)} of TypeScript) with no dependency` +
    (serverlessExpressBytes !== undefined
      ? `; @codegenie/serverless-express ships ${kib(serverlessExpressBytes)} of JavaScript.`
      : '.'),
  '',
].join('\n');
writeFileSync(join(RESULTS, 'lambda.md'), md);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`wrote ${join(RESULTS, 'lambda.json')} and lambda.md\n`);
process.exit(0);
