import { createHash } from 'node:crypto';
import type { IssuedCredentials } from './vendors/vendor.js';

/**
 * Caches issued credentials per identical request (same vendor, identity, session name, policy
 * and duration), so a burst of calls for one caller costs one STS call. Concurrent misses share
 * one in-flight promise, which is dropped in `finally` if it fails. Entries are reused only while
 * at least half their lifetime remains, so a cached answer is never close to expiry.
 */
interface Entry {
  readonly promise: Promise<IssuedCredentials>;
  value?: IssuedCredentials;
}

/** What the credentials route needs of a cache: this in-process one, or the Redis one (server/shared/). */
export interface CredentialStore {
  get(
    key: string,
    durationSeconds: number,
    issue: () => Promise<IssuedCredentials>,
  ): Promise<{ credentials: IssuedCredentials; cached: boolean }>;
}

export class CredentialCache implements CredentialStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  static keyFor(parts: readonly string[]): string {
    return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
  }

  /** Returns cached credentials, or calls `issue` once for all concurrent callers. */
  async get(
    key: string,
    durationSeconds: number,
    issue: () => Promise<IssuedCredentials>,
  ): Promise<{ credentials: IssuedCredentials; cached: boolean }> {
    const existing = this.#entries.get(key);
    if (existing) {
      if (!existing.value) return { credentials: await existing.promise, cached: true };
      if (existing.value.expiration.getTime() - this.#now() >= (durationSeconds * 1000) / 2) {
        this.#entries.delete(key); // re-insert: Map order is the LRU order
        this.#entries.set(key, existing);
        return { credentials: existing.value, cached: true };
      }
      this.#entries.delete(key);
    }
    const entry: Entry = { promise: issue() };
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    try {
      entry.value = await entry.promise;
      return { credentials: entry.value, cached: false };
    } finally {
      if (!entry.value && this.#entries.get(key) === entry) this.#entries.delete(key);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
