// Issue 3, section 5: the limiter's Retry-After is exact. A client that waits Retry-After seconds
// is let through; one that retries a second earlier is still refused. Fake clock, random traffic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../server/errors.js';
import { clientAddressKey, RateLimiter } from '../../server/http/rate-limit.js';

function replay(limit: number, windowSeconds: number, times: readonly number[]) {
  let clock = 0;
  const limiter = new RateLimiter({ limit, windowSeconds }, () => clock);
  const outcomes: (number | 'ok')[] = [];
  for (const t of times) {
    clock = t;
    try {
      limiter.hit('k', 'subject');
      outcomes.push('ok');
    } catch (err) {
      expect(err).toBeInstanceOf(RateLimitError);
      outcomes.push((err as RateLimitError).retryAfterSeconds);
    }
  }
  return {
    outcomes,
    probe(at: number): boolean {
      clock = at;
      try {
        limiter.hit('k', 'subject');
        return true;
      } catch {
        return false;
      }
    },
  };
}

describe('RateLimiter Retry-After', () => {
  it('waiting exactly Retry-After seconds succeeds; a second less does not', () => {
    const traffic = fc.record({
      limit: fc.integer({ min: 1, max: 12 }),
      windowSeconds: fc.integer({ min: 1, max: 120 }),
      start: fc.integer({ min: 0, max: 10_000_000 }),
      gaps: fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 40 }),
    });
    let refusals = 0;
    fc.assert(
      fc.property(traffic, ({ limit, windowSeconds, start, gaps }) => {
        const times: number[] = [];
        let t = start;
        for (const g of gaps) times.push((t += g));
        const { outcomes } = replay(limit, windowSeconds, times);
        outcomes.forEach((outcome, i) => {
          if (outcome === 'ok') return;
          refusals++;
          expect(outcome).toBeGreaterThanOrEqual(1);
          expect(outcome).toBeLessThanOrEqual(2 * windowSeconds);
          const history = times.slice(0, i + 1);
          expect(replay(limit, windowSeconds, history).probe(times[i]! + outcome * 1000)).toBe(true);
          if (outcome > 1)
            expect(replay(limit, windowSeconds, history).probe(times[i]! + (outcome - 1) * 1000)).toBe(false);
        });
      }),
      { numRuns: 3000 },
    );
    expect(refusals).toBeGreaterThan(1000);
  });

  it('never lets more than `limit` requests through inside one window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 60 }), (limit, windowSeconds) => {
        const times = Array.from({ length: limit * 3 }, (_, i) => windowSeconds * 1000 * 5 + i);
        const { outcomes } = replay(limit, windowSeconds, times);
        expect(outcomes.filter((o) => o === 'ok')).toHaveLength(limit);
      }),
      { numRuns: 300 },
    );
  });
});

describe('client address keys', () => {
  it.each([
    ['192.0.2.7', 'ip:192.0.2.7'],
    ['::ffff:192.0.2.7', 'ip:192.0.2.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', 'ip6:2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', 'ip6:2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::ffff', 'ip6:2001:db8:1:2::/64'],
    ['2001:db8::1', 'ip6:2001:db8:0:0::/64'],
    ['::1', 'ip6:0:0:0:0::/64'],
    ['fe80::1%eth0', 'ip6:fe80:0:0:0::/64'],
    [undefined, 'ip:unknown'],
  ])('%s counts as %s (an IPv6 client holds a whole /64)', (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });

  it('every address inside one /64 shares a key; different /64s never do', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.array(group, { minLength: 4, maxLength: 4 }),
        (a, low) => {
          const b = [...a.slice(0, 4), ...low];
          expect(clientAddressKey(a.join(':'))).toBe(clientAddressKey(b.join(':')));
          const other = [...a.slice(0, 3), ((Number.parseInt(a[3]!, 16) + 1) % 0x10000).toString(16), ...a.slice(4)];
          expect(clientAddressKey(other.join(':'))).not.toBe(clientAddressKey(a.join(':')));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('RateLimiter memory', () => {
  it('tracks at most maxKeys keys, dropping the oldest', () => {
    const limiter = new RateLimiter({ limit: 1, windowSeconds: 60 }, () => 1000, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.hit(key, 'client address');
    expect(limiter.size).toBe(3);
    // 'e' is still tracked (refused again), 'a' was dropped (allowed again).
    expect(() => limiter.hit('e', 'client address')).toThrow(RateLimitError);
    expect(() => limiter.hit('a', 'client address')).not.toThrow();
  });
});
