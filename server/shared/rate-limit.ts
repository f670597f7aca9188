// Rate limits counted across instances, with rate-limiter-flexible: RateLimiterRedis while Redis
// answers, and its in-memory RateLimiterMemory (the library's "insurance" limiter) while it does
// not. A Redis error never refuses a request: the request is counted in memory instead.
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitError } from '../errors.js';
import type { RateLimit } from '../http/rate-limit.js';
import type { SharedState } from './state.js';

export class SharedRateLimiter {
  readonly #state: SharedState;
  readonly #redis: RateLimiterRedis;
  readonly #memory: RateLimiterMemory;

  /** `name` separates this limit's counters from the others' (`sub`, `addr`). */
  constructor(state: SharedState, limit: RateLimit, name: string) {
    this.#state = state;
    this.#memory = new RateLimiterMemory({ points: limit.limit, duration: limit.windowSeconds });
    this.#redis = new RateLimiterRedis({
      storeClient: state.client,
      keyPrefix: `${state.prefix}rl:${name}`,
      points: limit.limit,
      duration: limit.windowSeconds,
      rejectIfRedisNotReady: true,
    });
  }

  /** Counts one request for `key`; rejects with RateLimitError when over the limit. */
  async hit(key: string, what: string): Promise<void> {
    // Keys name subjects and addresses: Redis sees a digest only.
    const hashed = createHash('sha256').update(key).digest('base64url').slice(0, 32);
    try {
      if (this.#state.usable()) {
        try {
          await this.#redis.consume(hashed);
          return;
        } catch (err) {
          if (err instanceof RateLimiterRes) throw err;
          this.#state.failed(err);
        }
      }
      await this.#memory.consume(hashed);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new RateLimitError(`too many requests for this ${what}; retry in ${retryAfter} s`, retryAfter);
    }
  }
}
