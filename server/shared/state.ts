// Shared state in Redis (KEYHOLE_REDIS_URL): one connection per broker, watched so that a Redis
// that is down or slow never fails a request. Every operation has a deadline (`timeoutMs`); on a
// failure, or when the connection drops, the broker switches to its in-process state ("fallback")
// and a health check (PING, same deadline) switches it back once Redis answers again. Each change
// of state is logged once and shown in /readyz and /metrics.
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { Sealer } from './sealed.js';

/** Options of {@link createSharedState}. */
export interface SharedStateOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` (TLS). */
  readonly url: string;
  /** 32-byte AES-256-GCM keys for credentials stored in Redis: the first seals, all open. */
  readonly keys: readonly Buffer[];
  /** Deadline of each Redis operation, and of the connection, in ms. Default 200. */
  readonly timeoutMs?: number;
  /** Prefix of every Redis key this broker writes. Default `keyhole:`. */
  readonly prefix?: string;
  /** How long one instance may hold the lock of a cache miss (its STS call), in ms. Default 5000. */
  readonly lockMs?: number;
  /** How often Redis is checked while in fallback (and while shared), in ms. Default 1000. */
  readonly healthIntervalMs?: number;
  /** Where state changes are logged. Default: nowhere. */
  readonly logger?: Logger;
}

/** What `/readyz` shows of the shared state. */
export interface SharedStateStatus {
  readonly store: 'redis';
  /** `shared`: Redis answers, cache and limits are shared. `fallback`: each instance uses its own memory. */
  readonly state: 'shared' | 'fallback';
  /** When the state last changed (ISO 8601). */
  readonly since: string;
  /** Why it is in fallback. */
  readonly reason?: string;
}

/** Counters for /metrics. */
export interface SharedStateStats {
  /** Changes from shared to fallback since start. */
  fallbacks: number;
  /** Credential cache outcomes in shared mode: hit, miss (this instance called the vendor), waited, undecryptable, fallback. */
  readonly cache: Record<'hit' | 'miss' | 'waited' | 'undecryptable' | 'fallback', number>;
}

/** A broker's connection to Redis and its state. Create with {@link createSharedState}; `close()` when done. */
export interface SharedState {
  readonly client: Redis;
  readonly prefix: string;
  readonly sealer: Sealer;
  readonly timeoutMs: number;
  readonly lockMs: number;
  readonly stats: SharedStateStats;
  /** True while Redis answers: callers use it; false means use in-process state. */
  usable(): boolean;
  /** An operation failed: switch to fallback until the health check succeeds. */
  failed(err: unknown): void;
  status(): SharedStateStatus;
  /** Resolves once the first health check has decided the state. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 200 ? message.slice(0, 200) + '…' : message;
}

/** The redis URL without its password, for logs. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}

/**
 * Connects to Redis (in the background: this never throws for an unreachable Redis, and until the
 * first PING answers the broker runs on its in-process state).
 */
export function createSharedState(options: SharedStateOptions): SharedState {
  const timeoutMs = options.timeoutMs ?? 200;
  const healthIntervalMs = options.healthIntervalMs ?? 1000;
  const logger = options.logger;
  const sealer = new Sealer(options.keys);
  const client = new Redis(options.url, {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 500),
    // A command while disconnected fails at once rather than waiting in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
  });
  let state: 'shared' | 'fallback' = 'fallback';
  let reason: string | undefined = 'connecting';
  let since = new Date();
  let decided = false;
  let resolveSettled!: () => void;
  const settled = new Promise<void>((r) => (resolveSettled = r));
  const stats: SharedStateStats = {
    fallbacks: 0,
    cache: { hit: 0, miss: 0, waited: 0, undecryptable: 0, fallback: 0 },
  };
  const where = safeUrl(options.url);

  const set = (next: 'shared' | 'fallback', why?: string) => {
    const first = !decided;
    decided = true;
    resolveSettled();
    if (next === state && !first) return;
    const changed = next !== state;
    state = next;
    reason = why;
    if (changed) since = new Date();
    if (next === 'shared') {
      logger?.info({ event: 'shared_state.shared', store: 'redis', url: where }, 'shared state: using Redis');
    } else {
      if (changed) stats.fallbacks++;
      logger?.warn(
        { event: 'shared_state.fallback', store: 'redis', url: where, reason: why },
        'shared state: Redis unavailable, using in-process cache and rate limits',
      );
    }
  };

  let checking = false;
  const check = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      if (client.status !== 'ready') {
        // Still connecting at start: give the connection its own deadline before calling it down.
        if (decided || client.status !== 'connecting') set('fallback', `redis ${client.status}`);
        return;
      }
      await client.ping();
      set('shared');
    } catch (err) {
      set('fallback', reasonOf(err));
    } finally {
      checking = false;
    }
  };
  // ioredis reports connection errors as events; without a listener they would be printed.
  client.on('error', () => {});
  client.on('ready', () => void check());
  let closed = false;
  client.on('close', () => {
    if (closed) return;
    if (state === 'shared' || !decided) set('fallback', 'connection closed');
  });
  const timer = setInterval(() => void check(), healthIntervalMs);
  timer.unref();
  const first = setTimeout(() => void check(), Math.max(timeoutMs, 500));
  first.unref();

  return {
    client,
    prefix: options.prefix ?? 'keyhole:',
    sealer,
    timeoutMs,
    lockMs: options.lockMs ?? 5000,
    stats,
    usable: () => state === 'shared',
    failed: (err) => set('fallback', reasonOf(err)),
    status: () => ({
      store: 'redis',
      state,
      since: since.toISOString(),
      ...(state === 'fallback' && reason ? { reason } : {}),
    }),
    settled: () => settled,
    close: async () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(first);
      client.disconnect();
    },
  };
}
