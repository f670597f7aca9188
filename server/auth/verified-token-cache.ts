import { hash } from 'node:crypto';

/**
 * Remembers tokens that one verifier has already accepted, so a client that presents the same token
 * many times pays for its signature check once. Keyed by the SHA-256 of the exact token string; the
 * value is the verified claims (deep-frozen). Only successes are ever stored. An entry is served only
 *
 * - by the verifier that stored it (one cache per verifier: its issuers, audiences and algorithms);
 * - for at most `maxAgeMs` after it was stored, so a key removed from a JWKS (or an issuer dropped
 *   from the configuration of a running process) stops being trusted within that time;
 * - while `stillValid` holds at the current time (the caller re-checks `exp`, `nbf` and the token age
 *   limits on every hit, with the same clock tolerance, so a cached token expires exactly when an
 *   uncached one would); when it does not, the entry is dropped and the token is verified afresh,
 *   which gives the exact refusal;
 * - while the clock has not gone back before the moment it was stored.
 *
 * At most `maxEntries` are kept; the least recently used goes first.
 */
export class VerifiedTokenCache<T extends object> {
  readonly #entries = new Map<string, { readonly claims: T; readonly storedAt: number }>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;

  constructor(maxEntries: number, maxAgeMs: number) {
    this.#maxEntries = maxEntries;
    this.#maxAgeMs = maxAgeMs;
  }

  static keyFor(token: string): string {
    // One-shot `hash`: half the CPU of createHash().update().digest() for a token of 1 KB.
    return hash('sha256', token, 'base64url');
  }

  /** The claims stored for `key`, if still servable at `nowMs` and `stillValid` accepts them. */
  get(key: string, nowMs: number, stillValid: (claims: T) => boolean): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (nowMs < entry.storedAt || nowMs - entry.storedAt >= this.#maxAgeMs || !stillValid(entry.claims)) {
      return undefined;
    }
    this.#entries.set(key, entry); // re-insert: Map order is the LRU order
    return entry.claims;
  }

  /** Stores a deep-frozen copy of `claims` (later hits cannot be altered by a caller) and returns it. */
  set(key: string, claims: T, nowMs: number): T {
    const frozen = deepFreeze(structuredClone(claims));
    this.#entries.delete(key);
    this.#entries.set(key, { claims: frozen, storedAt: nowMs });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return frozen;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
