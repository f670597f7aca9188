// Several real broker processes (`server/main.ts`, configured by environment as an operator
// would) behind Debian's haproxy, all on private loopback ports, with a generated haproxy config.
// Never skipped: without the binaries the test fails naming the package to install.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { testIssuer, type TestIssuer } from './jwt.js';
import { ENV_FILE } from './stack.js';
import { freePort, startRedis, waitFor, type TestRedis } from './redis.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function haproxyBinary(): string {
  const found = spawnSync('sh', ['-c', 'PATH="$PATH:/usr/sbin:/sbin" command -v haproxy'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found)
    throw new Error('haproxy not found: install the Debian package (apt-get install haproxy), as .ci/run does');
  return found;
}

export interface BrokerProcess {
  readonly url: string;
  readonly port: number;
  /** Process id of the running broker, undefined while it is down. */
  readonly pid: number | undefined;
  output(): string;
  /** Log lines (JSON) so far. */
  logs(): Record<string, unknown>[];
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, same environment. */
  restart(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

/**
 * The environment of a broker process behind haproxy that shares `redis` with its peers: trusts
 * `idp`, seals with a fresh key, takes the client address from the one proxy on loopback, serves
 * /metrics, and counts `rateLimit` (`SUBJECT/ADDRESS` limits per 60 s).
 */
export function sharedBrokerEnv(
  redis: TestRedis,
  idp: TestIssuer,
  rateLimit: { readonly subject: number; readonly address: number },
): Record<string, string> {
  return {
    KEYHOLE_JWT_ISSUER: idp.issuer,
    KEYHOLE_JWT_AUDIENCE: idp.audience,
    KEYHOLE_JWT_PUBLIC_KEY: idp.publicKeyPem,
    KEYHOLE_REDIS_URL: redis.url,
    KEYHOLE_REDIS_KEYS: randomBytes(32).toString('base64'),
    KEYHOLE_REDIS_PREFIX: redis.prefix,
    // Generous: three processes start at once on two shared cores (the timeout itself is tested in shared-state).
    KEYHOLE_REDIS_TIMEOUT_MS: '2000',
    KEYHOLE_RATE_LIMIT_SUBJECT: `${rateLimit.subject}/60`,
    KEYHOLE_RATE_LIMIT_ADDRESS: `${rateLimit.address}/60`,
    // haproxy is the one hop in front: the client address is what it reports.
    KEYHOLE_TRUST_PROXY: 'loopback',
    KEYHOLE_METRICS: '1',
  };
}

/** `server/main.ts` on a free port with the stack's settings file and `env` on top; resolves once /healthz answers. */
export async function startBrokerProcess(env: Record<string, string>): Promise<BrokerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let out = '';
  const launch = async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'server/main.ts')], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        KEYHOLE_ENV_FILE: ENV_FILE,
        KEYHOLE_HOST: '127.0.0.1',
        KEYHOLE_LOG_FORMAT: 'json',
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      `broker on ${url}`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`broker exited ${proc.exitCode}: ${out.slice(-800)}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
      },
      30_000,
    );
  };
  await launch();
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    if (!c) return;
    child = undefined;
    c.kill(signal);
    await exited(c);
  };
  return {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
  };
}

export interface Haproxy {
  readonly url: string;
  readonly config: string;
  stop(): Promise<void>;
}

/** haproxy in the foreground, round-robin over `backends`, health-checking /healthz every 200 ms. */
export async function startHaproxy(backends: readonly { port: number }[]): Promise<Haproxy> {
  const binary = haproxyBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 1024',
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  option forwardfor',
      '  retries 2',
      '  option redispatch',
      'frontend keyhole',
      `  bind 127.0.0.1:${port}`,
      '  default_backend brokers',
      'backend brokers',
      '  balance roundrobin',
      '  option httpchk GET /healthz',
      ...backends.map((b, i) => `  server broker${i + 1} 127.0.0.1:${b.port} check inter 200 fall 2 rise 1`),
      '',
    ].join('\n'),
  );
  const check = spawnSync(binary, ['-c', '-f', config], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused ${config}: ${check.stdout}${check.stderr}`);
  const proc = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`haproxy on ${url}`, async () => {
    if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}: ${out}`);
    return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok;
  });
  return {
    url,
    config,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited(proc);
    },
  };
}

/** A private redis-server, a test issuer, three brokers sharing that Redis, and haproxy in front of them. */
export interface SharedRig {
  readonly redis: TestRedis;
  readonly idp: TestIssuer;
  readonly brokers: readonly BrokerProcess[];
  readonly lb: Haproxy;
  /** Stops haproxy, the brokers (SIGTERM) and redis-server. */
  stop(): Promise<void>;
}

/**
 * Starts a {@link SharedRig} whose brokers run with {@link sharedBrokerEnv}'s environment and
 * `rateLimit`; if any part fails to start, the parts already started are stopped before it throws.
 */
export async function startSharedRig(rateLimit: {
  readonly subject: number;
  readonly address: number;
}): Promise<SharedRig> {
  const redis = await startRedis();
  const brokers: BrokerProcess[] = [];
  let lb: Haproxy | undefined;
  const stop = async () => {
    await lb?.stop();
    await Promise.all(brokers.map((b) => b.kill('SIGTERM')));
    await redis.stop();
  };
  try {
    const idp = await testIssuer();
    const env = sharedBrokerEnv(redis, idp, rateLimit);
    const started = await Promise.allSettled([1, 2, 3].map(() => startBrokerProcess(env)));
    for (const s of started) if (s.status === 'fulfilled') brokers.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    lb = await startHaproxy(brokers);
    return { redis, idp, brokers, lb, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
