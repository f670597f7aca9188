// The in-memory RateLimiter's refusal message and its lazy sweep, with a fake clock: exact texts
// and table sizes (the limit stated as a literal, not imported).
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../server/errors.js';
import { RateLimiter } from '../../server/http/rate-limit.js';

const W = 60_000; // window, ms
const T0 = 100 * W; // a window boundary

describe('RateLimiter', () => {
  it('the request over the limit is 429 rate_limited, naming what is limited and the whole seconds to wait', () => {
    let now = T0;
    const limiter = new RateLimiter({ limit: 3, windowSeconds: 60 }, () => now);
    for (let i = 0; i < 3; i++) limiter.hit('alice', 'subject');
    // This window alone is full: 3 requests must decay to 2 in the next one, i.e. a third of it in:
    // T0 + 80 s, 59.5 s from now, 60 s rounded up.
    now = T0 + 20_500;
    let refused: unknown;
    try {
      limiter.hit('alice', 'subject');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(RateLimitError);
    expect(refused).toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterSeconds: 60,
      message: 'too many requests for this subject; retry in 60 s',
    });
    expect(() => limiter.hit('10.0.0.1', 'address')).not.toThrow();
  });

  it('stale keys stay in the table until the next sweep is due (once per window), then go', () => {
    let now = T0;
    const limiter = new RateLimiter({ limit: 5, windowSeconds: 60 }, () => now);
    const at = (t: number, key: string) => {
      now = t;
      limiter.hit(key, 'subject');
    };
    at(T0, 'a'); // first hit: sweep (nothing to drop); a's window starts at T0
    at(T0 + 1.5 * W, 'b'); // a sweep is due: cutoff T0 - 0.5 W, a stays
    expect(limiter.size).toBe(2);
    // a is now more than two windows old, but the last sweep was 0.7 windows ago: not yet.
    at(T0 + 2.2 * W, 'c');
    expect(limiter.size).toBe(3);
    // One window after the last sweep: sweep, cutoff T0 + 0.5 W: a goes.
    at(T0 + 2.5 * W, 'd');
    expect(limiter.size).toBe(3);
  });
});
