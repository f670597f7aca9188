// SharedRateLimiter against a private redis-server (no RGW): counts are shared by instances with
// the same name and prefix, separate per name, refused with RateLimitError (429, the message and a
// whole-second Retry-After), keyed by a digest only, and counted in memory when Redis is unusable
// or fails (a Redis error never refuses a request).
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../server/errors.js';
import type { SharedState } from '../../server/index.js';
import { SharedRateLimiter } from '../../server/shared/rate-limit.js';
import { Sealer } from '../../server/shared/sealed.js';
import { TEST_KEY } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

const suite = redisSuite();
const stateOn = (prefix?: string) => suite.stateOn(prefix);
const admin = () => suite.redis().admin;

/** The error `hit` rejects with, or undefined when it was counted and allowed. */
async function outcome(limiter: SharedRateLimiter, key: string, what = 'subject'): Promise<unknown> {
  try {
    await limiter.hit(key, what);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('SharedRateLimiter in Redis', () => {
  it('the limit+1-th request in the window is refused with 429 rate_limited, the message and Retry-After in whole seconds', async () => {
    const state = await stateOn();
    const limiter = new SharedRateLimiter(state, { limit: 3, windowSeconds: 60 }, 'sub');
    for (let i = 0; i < 3; i++) expect(await outcome(limiter, 'alice')).toBeUndefined();
    const refused = await outcome(limiter, 'alice');
    expect(refused).toBeInstanceOf(RateLimitError);
    const err = refused as RateLimitError;
    expect([err.code, err.status]).toEqual(['rate_limited', 429]);
    // The window is 60 s and began less than a few seconds ago: 58 to 60 s to wait.
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(Number.isInteger(err.retryAfterSeconds)).toBe(true);
    expect(err.message).toBe(`too many requests for this subject; retry in ${err.retryAfterSeconds} s`);
    // Another key has its own count; the word in the message is the caller's.
    expect(await outcome(limiter, 'bob', 'address')).toBeUndefined();
  });

  it('instances with the same name on one prefix share the count; another name counts apart', async () => {
    const a = await stateOn();
    const b = await stateOn(a.prefix);
    const limit = { limit: 2, windowSeconds: 60 };
    const onA = new SharedRateLimiter(a, limit, 'sub');
    const onB = new SharedRateLimiter(b, limit, 'sub');
    const byAddress = new SharedRateLimiter(b, limit, 'addr');
    expect(await outcome(onA, 'k')).toBeUndefined();
    expect(await outcome(onB, 'k')).toBeUndefined();
    expect(await outcome(byAddress, 'k')).toBeUndefined();
    expect(await outcome(onA, 'k')).toBeInstanceOf(RateLimitError);
    expect(await outcome(onB, 'k')).toBeInstanceOf(RateLimitError);
    expect(await outcome(byAddress, 'k')).toBeUndefined();
    expect(await outcome(byAddress, 'k')).toBeInstanceOf(RateLimitError);
  });

  it('Redis sees a 32-character digest of the key under <prefix>rl:<name>, never the key itself', async () => {
    const state = await stateOn();
    const limiter = new SharedRateLimiter(state, { limit: 5, windowSeconds: 60 }, 'sub');
    const subject = 'alice@example.com';
    await limiter.hit(subject, 'subject');
    const keys = await admin().keys(`${state.prefix}*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${state.prefix}rl:sub.*[A-Za-z0-9_-]{32}$`));
    expect(keys[0]).not.toContain('alice');
    const digest = keys[0]!.slice(-32);
    expect(digest).toBe(createHash('sha256').update(subject).digest('base64url').slice(0, 32));
    // The window is the key's lifetime in Redis.
    const pttl = await admin().pttl(keys[0]!);
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('Redis not usable: counted in memory, still refused over the limit, nothing written to Redis', async () => {
    const state = await stateOn();
    // A state that says Redis is down (as after a failure), on the live connection.
    const down: SharedState = { ...state, usable: () => false };
    const limiter = new SharedRateLimiter(down, { limit: 2, windowSeconds: 60 }, 'sub');
    expect(await outcome(limiter, 'k')).toBeUndefined();
    expect(await outcome(limiter, 'k')).toBeUndefined();
    const refused = (await outcome(limiter, 'k')) as RateLimitError;
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(58);
    expect(refused.message).toBe(`too many requests for this subject; retry in ${refused.retryAfterSeconds} s`);
    expect(await admin().keys(`${state.prefix}*`)).toEqual([]);
  });

  it('Redis failing: the request is allowed and counted in memory, and the state is told of the failure', async () => {
    // A client that never connected: every command is refused at once (not ready).
    const client = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    const failures: unknown[] = [];
    const failing = {
      client,
      prefix: 'never:',
      sealer: new Sealer([TEST_KEY]),
      usable: () => true,
      failed: (err: unknown) => void failures.push(err),
    } as unknown as SharedState;
    const limiter = new SharedRateLimiter(failing, { limit: 1, windowSeconds: 60 }, 'sub');
    expect(await outcome(limiter, 'k')).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(Error);
    // Counted in memory: the second request is over the limit of 1.
    expect(await outcome(limiter, 'k')).toBeInstanceOf(RateLimitError);
    expect(failures).toHaveLength(2);
    client.disconnect();
  });
});
