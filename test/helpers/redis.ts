// A private redis-server (Debian's `redis-server` package) for tests: its own loopback port, no
// persistence, killed and restarted on demand. Never a shared instance, never skipped: without
// the binary the test fails and says which package to install.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger, createSharedState, type SharedState } from '../../server/index.js';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** A key prefix no other test uses. */
  readonly prefix: string;
  /** A plain client (no timeouts) for inspecting and tampering with what brokers wrote. */
  readonly admin: Redis;
  /** SIGKILL: connections drop at once, nothing is saved. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: Redis keeps its sockets open but answers nothing (a "slow" Redis). */
  pause(): void;
  resume(): void;
  /** Starts again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      'redis-server not found: install the Debian package (apt-get install redis-server), as .ci/run does',
    );
  }
  return found;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 20 ms until it is truthy, or fails after `ms` with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, ms = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerBinary();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(`redis-server on port ${port} (${out.slice(-300)})`, () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited ${proc.exitCode}: ${out.slice(-500)}`);
      return out.includes('Ready to accept connections');
    });
  };
  await launch();
  const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => 50 });
  admin.on('error', () => {});
  const kill = async () => {
    const c = child;
    if (!c) return;
    child = undefined;
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await exited(c);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    prefix: `t${randomBytes(4).toString('hex')}:`,
    admin,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      admin.disconnect();
      await kill();
    },
  };
}

/** A broker's shared state on `redis`, logging into `logs` (parsed lines). */
export function sharedStateOn(
  redis: TestRedis,
  options: { keys?: readonly Buffer[]; prefix?: string; timeoutMs?: number } = {},
): { state: SharedState; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const state = createSharedState({
    url: redis.url,
    keys: options.keys ?? [TEST_KEY],
    prefix: options.prefix ?? redis.prefix,
    // Generous by default: two cores shared with RGW and other suites. Timeout tests pass their own.
    timeoutMs: options.timeoutMs ?? 2000,
    healthIntervalMs: 100,
    logger: createLogger('info', sink),
  });
  return { state, logs };
}

/** The default sealing key of test brokers. */
export const TEST_KEY = randomBytes(32);
