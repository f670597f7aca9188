import { isIPv4, isIPv6 } from 'node:net';
import { RateLimitError } from '../errors.js';

/** A limit of `limit` requests per `windowSeconds`, per key. */
export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
}

/** What the credentials route needs of a limiter: this in-process one, or the Redis one (server/shared/). */
export interface Limiter {
  /** Counts one request for `key`; throws (or rejects with) RateLimitError when over the limit. */
  hit(key: string, what: string): void | Promise<void>;
}

/** Most keys a limiter tracks; beyond it the oldest are dropped, so a flood of keys cannot exhaust memory. */
export const MAX_TRACKED_KEYS = 100_000;

/**
 * The rate-limit key for a client address. IPv6 clients usually hold a whole /64, so an IPv6
 * address counts as its /64; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address.
 */
export function clientAddressKey(ip: string | undefined): string {
  if (!ip) return 'ip:unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return `ip:${mapped[1]}`;
  if (!isIPv6(ip)) return `ip:${ip}`;
  const [head = '', tail = ''] = ip.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail ("::1.2.3.4") takes two groups; only the first four groups matter here.
  const rightGroups = right.flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const full = ip.includes('::')
    ? [...left, ...Array(8 - left.length - rightGroups.length).fill('0'), ...rightGroups]
    : left;
  return `ip6:${full
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Sliding-window-counter limiter (two fixed windows, weighted), in memory. Good enough for one
 * broker process; several replicas each enforce their own share. Old keys are swept lazily, and at
 * most `maxKeys` are kept.
 */
export class RateLimiter implements Limiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, { start: number; current: number; previous: number }>();
  #lastSweep = 0;

  constructor(limit: RateLimit, now: () => number = Date.now, maxKeys = MAX_TRACKED_KEYS) {
    this.#limit = limit.limit;
    this.#windowMs = limit.windowSeconds * 1000;
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#windows.size;
  }

  /** Counts one request for `key`; throws RateLimitError when over the limit. */
  hit(key: string, what: string): void {
    const now = this.#now();
    this.#sweep(now);
    const start = now - (now % this.#windowMs);
    let w = this.#windows.get(key);
    if (!w || w.start < start - this.#windowMs) {
      w = { start, current: 0, previous: 0 };
    } else if (w.start < start) {
      w = { start, current: 0, previous: w.current };
    }
    this.#windows.set(key, w);
    // Map order is insertion order: the first key is the one tracked longest.
    while (this.#windows.size > this.#maxKeys) this.#windows.delete(this.#windows.keys().next().value as string);
    const elapsed = (now - start) / this.#windowMs;
    const estimate = w.previous * (1 - elapsed) + w.current;
    if (estimate + 1 > this.#limit) {
      const retryAfter = Math.max(1, Math.ceil((this.#nextAllowed(start, w) - now) / 1000));
      throw new RateLimitError(`too many requests for this ${what}; retry in ${retryAfter} s`, retryAfter);
    }
    w.current++;
  }

  // Earliest moment the weighted estimate leaves room for one more request, so a client that
  // honours Retry-After is not refused again. Either the previous window's weight decays enough
  // within this window, or, if this window alone is full, its count must decay in the next one.
  #nextAllowed(start: number, w: { current: number; previous: number }): number {
    const room = this.#limit - 1 - w.current;
    // Only refused requests get here: with `room >= 0` that means previous × (1 − elapsed) > room,
    // so `previous > room >= 0`, and the previous window's weight decays to `room` within this one.
    if (room >= 0) {
      return start + this.#windowMs * (1 - room / w.previous);
    }
    const next = start + this.#windowMs;
    return w.current === 0 ? next : next + this.#windowMs * Math.max(0, 1 - (this.#limit - 1) / w.current);
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#windowMs) return;
    this.#lastSweep = now;
    const cutoff = now - 2 * this.#windowMs;
    for (const [key, w] of this.#windows) if (w.start < cutoff) this.#windows.delete(key);
  }
}
