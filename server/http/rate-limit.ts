import { RateLimitError } from '../errors.js';

/** A limit of `limit` requests per `windowSeconds`, per key. */
export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window length in seconds. */
  readonly windowSeconds: number;
}

/**
 * Sliding-window-counter limiter (two fixed windows, weighted), in memory. Good enough for one
 * broker process; several replicas each enforce their own share. Old keys are swept lazily.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; current: number; previous: number }>();
  #lastSweep = 0;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    this.#limit = limit.limit;
    this.#windowMs = limit.windowSeconds * 1000;
    this.#now = now;
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
    const elapsed = (now - start) / this.#windowMs;
    const estimate = w.previous * (1 - elapsed) + w.current;
    if (estimate + 1 > this.#limit) {
      // Earliest moment the weighted estimate drops enough for one more request.
      const retryAfter = Math.max(1, Math.ceil((start + this.#windowMs - now) / 1000));
      throw new RateLimitError(`too many requests for this ${what}; retry in ${retryAfter} s`, retryAfter);
    }
    w.current++;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#windowMs) return;
    this.#lastSweep = now;
    const cutoff = now - 2 * this.#windowMs;
    for (const [key, w] of this.#windows) if (w.start < cutoff) this.#windows.delete(key);
  }
}
