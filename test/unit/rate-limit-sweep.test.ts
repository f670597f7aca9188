// RateLimiter housekeeping, with a fake clock: old keys are swept lazily, once per window, so a
// full table of tracked keys does not make every request scan it (the limiter sits in front of
// every /v1/credentials call). Stale windows being forgotten between sweeps: mutation-gaps.test.ts.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../server/http/rate-limit.js';

const W = 60_000; // window, ms
const T0 = 10 * W; // a window boundary

describe('old keys are swept lazily, once per window', () => {
  it('with 100000 keys tracked, a burst of hits costs about what it costs with one key tracked', () => {
    const burst = (limiter: RateLimiter) => {
      const started = performance.now();
      for (let i = 0; i < 3000; i++) limiter.hit('busy', 'subject');
      return performance.now() - started;
    };
    let now = T0;
    const small = new RateLimiter({ limit: 1_000_000, windowSeconds: 60 }, () => now);
    const full = new RateLimiter({ limit: 1_000_000, windowSeconds: 60 }, () => now);
    for (let i = 0; i < 100_000; i++) full.hit(`k${i}`, 'subject');
    expect(full.size).toBe(100_000);
    now = T0 + 1000; // same window: no sweep is due
    burst(small); // warm-up
    const alone = burst(small);
    const crowded = burst(full);
    // Scanning 100000 keys on each of 3000 hits takes seconds; the amortised sweep, milliseconds.
    expect(crowded).toBeLessThan(alone * 20 + 250);
    // The sweep does run once a window has passed: the 100000 keys, two windows old, are dropped.
    now = T0 + 2 * W + 1;
    full.hit('busy', 'subject');
    expect(full.size).toBe(1);
  });
});
