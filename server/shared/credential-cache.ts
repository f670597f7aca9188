// The credential cache shared through Redis: identical requests (same vendor, identity, session
// name, policy and lifetime) get the same credentials from every instance while at least half
// their lifetime remains. A miss takes a short lock (SET NX PX), so concurrent misses across
// instances make one vendor call and the others wait for its result. Values are sealed (see
// sealed.ts); one that does not open is a miss. Any Redis failure falls back to the instance's
// own cache: a request never fails because Redis did.
import { randomUUID } from 'node:crypto';
import { CredentialCache } from '../credential-cache.js';
import type { IssuedCredentials } from '../vendors/vendor.js';
import type { SharedState } from './state.js';

type Result = { credentials: IssuedCredentials; cached: boolean };

const FAILED = Symbol('redis failed');
const POLL_MS = 20;

// Deletes the lock only if this instance still holds it.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class SharedCredentialCache {
  readonly #state: SharedState;
  readonly #local: CredentialCache;
  readonly #inflight = new Map<string, Promise<Result>>();
  readonly #now: () => number;

  constructor(state: SharedState, maxEntries: number, now: () => number = Date.now) {
    this.#state = state;
    this.#local = new CredentialCache(maxEntries, now);
    this.#now = now;
  }

  /** Same contract as {@link CredentialCache.get}. */
  async get(key: string, durationSeconds: number, issue: () => Promise<IssuedCredentials>): Promise<Result> {
    if (!this.#state.usable()) {
      this.#state.stats.cache.fallback++;
      return this.#local.get(key, durationSeconds, issue);
    }
    // Concurrent misses within this instance share one round of Redis calls.
    const running = this.#inflight.get(key);
    if (running) return { credentials: (await running).credentials, cached: true };
    const run = this.#shared(key, durationSeconds, issue).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, run);
    return run;
  }

  async #redis<T>(op: () => Promise<T>): Promise<T | typeof FAILED> {
    try {
      return await op();
    } catch (err) {
      this.#state.failed(err);
      return FAILED;
    }
  }

  #fresh(credentials: IssuedCredentials, durationSeconds: number): boolean {
    return credentials.expiration.getTime() - this.#now() >= (durationSeconds * 1000) / 2;
  }

  async #read(valueKey: string, durationSeconds: number): Promise<IssuedCredentials | undefined | typeof FAILED> {
    const raw = await this.#redis(() => this.#state.client.get(valueKey));
    if (raw === FAILED || raw === null) return raw === FAILED ? FAILED : undefined;
    const opened = this.#state.sealer.open(raw, valueKey);
    if (!opened) {
      this.#state.stats.cache.undecryptable++;
      return undefined;
    }
    return this.#fresh(opened, durationSeconds) ? opened : undefined;
  }

  async #shared(key: string, durationSeconds: number, issue: () => Promise<IssuedCredentials>): Promise<Result> {
    const { client, prefix, lockMs, stats } = this.#state;
    const valueKey = `${prefix}cred:${key}`;
    const lockKey = `${prefix}lock:${key}`;
    const fallback = () => {
      stats.cache.fallback++;
      return this.#local.get(key, durationSeconds, issue);
    };

    const found = await this.#read(valueKey, durationSeconds);
    if (found === FAILED) return fallback();
    if (found) {
      stats.cache.hit++;
      return { credentials: found, cached: true };
    }
    const token = randomUUID();
    const locked = await this.#redis(() => client.set(lockKey, token, 'PX', lockMs, 'NX'));
    if (locked === FAILED) return fallback();
    if (locked !== 'OK') {
      // Another instance is calling the vendor: wait for its result, as long as it holds the lock.
      const deadline = this.#now() + lockMs;
      while (this.#now() < deadline) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        // Lock first, then value: the holder writes the value before it releases the lock, so a
        // released lock with no value means the holder failed.
        const held = await this.#redis(() => client.exists(lockKey));
        if (held === FAILED) return fallback();
        const value = await this.#read(valueKey, durationSeconds);
        if (value === FAILED) return fallback();
        if (value) {
          stats.cache.waited++;
          return { credentials: value, cached: true };
        }
        if (held === 0) break; // the holder failed or gave up: call the vendor ourselves
      }
    }
    const release = () => this.#redis(() => client.eval(RELEASE, 1, lockKey, token));
    let issued: IssuedCredentials;
    try {
      issued = await issue();
    } catch (err) {
      // Waiters stop waiting at once (and try themselves) rather than until the lock expires.
      if (locked === 'OK') void release();
      throw err;
    }
    stats.cache.miss++;
    const ttl = issued.expiration.getTime() - this.#now() - (durationSeconds * 1000) / 2;
    if (ttl >= 1) {
      const sealed = this.#state.sealer.seal(issued, valueKey);
      await this.#redis(() => client.set(valueKey, sealed, 'PX', Math.floor(ttl)));
    }
    if (locked === 'OK') await release();
    return { credentials: issued, cached: false };
  }

  get size(): number {
    return this.#local.size;
  }
}
