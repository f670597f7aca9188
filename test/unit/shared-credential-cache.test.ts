// SharedCredentialCache against a private redis-server (no RGW): what it writes to Redis (sealed,
// under which key, for how long), when a value is fresh enough to reuse, how concurrent misses
// across instances wait for one vendor call, and that Redis being unusable falls back to the
// instance's own cache. Clocks are injected, so "half the lifetime" is checked to the millisecond.
import { describe, expect, it } from 'vitest';
import { createSharedState, type SharedState } from '../../server/index.js';
import { SharedCredentialCache } from '../../server/shared/credential-cache.js';
import { Sealer } from '../../server/shared/sealed.js';
import type { IssuedCredentials } from '../../server/vendors/vendor.js';
import { freePort, startRedis, TEST_KEY, waitFor } from '../helpers/redis.js';
import { redisSuite } from '../helpers/redis-suite.js';

const suite = redisSuite();
const stateOn = suite.stateOn;
const admin = () => suite.redis().admin;

const T0 = 1_900_000_000_000;
const creds = (id: string, expiresAt: number): IssuedCredentials => ({
  accessKeyId: id,
  secretAccessKey: `secret-${id}`,
  sessionToken: `token-${id}`,
  expiration: new Date(expiresAt),
});

/** An issue function that counts its calls and answers `answer`. */
function issuer(answer: () => IssuedCredentials | Promise<IssuedCredentials>) {
  const f = async () => {
    f.calls++;
    return answer();
  };
  f.calls = 0;
  return f;
}

/**
 * A waiter's clock: T0 at its first read, then `stepMs` later at each further read. A miss reads
 * the clock first when it finds the lock taken (to set its deadline), then once per poll (every
 * 20 ms), so `reads` counts its polls, and a waiter that never sees the lock released gives up
 * after lockMs / stepMs polls: a broken release fails the test in seconds instead of hanging it.
 */
function waiterClock(stepMs: number) {
  const f = () => T0 + f.reads++ * stepMs;
  f.reads = 0;
  return f;
}

/** The state's Redis client with `get`, `set` or `exists` failing while `failing` names it. */
function flakyClient(state: SharedState) {
  const control = { failing: new Set<string>() };
  const client = new Proxy(state.client, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && control.failing.has(prop)) {
        return async () => {
          throw new Error(`injected ${prop} failure`);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { state: { ...state, client } as SharedState, control };
}

/**
 * Instance A (on a fresh prefix) misses `k` and holds its lock while its vendor call waits on
 * `gate`; instance B is on the same prefix.
 */
async function lockHeldByA() {
  const a = await stateOn();
  const b = await stateOn(a.prefix);
  const gate = deferred<IssuedCredentials>();
  const first = issuer(() => gate.promise);
  const fromA = new SharedCredentialCache(a, 10, () => T0).get('k', 900, first);
  await waitFor('the lock taken by A', async () => (await admin().exists(`${a.prefix}lock:k`)) === 1);
  return { a, b, gate, first, fromA };
}

/** A promise with its resolve and reject. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SharedCredentialCache in Redis', () => {
  it('a miss calls the vendor once and stores the credentials sealed, under <prefix>cred:<key>, until half their lifetime', async () => {
    const state = await stateOn();
    const now = T0;
    const cache = new SharedCredentialCache(state, 10, () => now);
    const issue = issuer(() => creds('A', T0 + 900_000));
    const first = await cache.get('k1', 900, issue);
    expect(first).toEqual({ credentials: creds('A', T0 + 900_000), cached: false });
    expect(issue.calls).toBe(1);
    expect(state.stats.cache).toEqual({ hit: 0, miss: 1, waited: 0, undecryptable: 0, fallback: 0 });

    const raw = await admin().get(`${state.prefix}cred:k1`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('secret-A');
    expect(new Sealer([TEST_KEY]).open(raw!, `${state.prefix}cred:k1`)).toEqual(creds('A', T0 + 900_000));
    // Stored for the time left after half the lifetime: 900 s - 450 s = 450,000 ms.
    const pttl = await admin().pttl(`${state.prefix}cred:k1`);
    expect(pttl).toBeGreaterThan(440_000);
    expect(pttl).toBeLessThanOrEqual(450_000);
    // The lock was released once the value was written.
    expect(await admin().exists(`${state.prefix}lock:k1`)).toBe(0);
    // Asked again: read from Redis (the finished round is not kept in the instance).
    expect(await cache.get('k1', 900, issue)).toEqual({ credentials: creds('A', T0 + 900_000), cached: true });
    expect(issue.calls).toBe(1);
    expect(state.stats.cache).toEqual({ hit: 1, miss: 1, waited: 0, undecryptable: 0, fallback: 0 });
  });

  it('another instance on the same prefix reuses the value: a hit, no vendor call', async () => {
    const a = await stateOn();
    const b = await stateOn(a.prefix);
    await new SharedCredentialCache(a, 10, () => T0).get(
      'k',
      900,
      issuer(() => creds('A', T0 + 900_000)),
    );
    const other = issuer(() => creds('B', T0 + 900_000));
    const got = await new SharedCredentialCache(b, 10, () => T0).get('k', 900, other);
    expect(got).toEqual({ credentials: creds('A', T0 + 900_000), cached: true });
    expect(other.calls).toBe(0);
    expect(b.stats.cache).toEqual({ hit: 1, miss: 0, waited: 0, undecryptable: 0, fallback: 0 });
  });

  it('a stored value is reused while exactly half its lifetime remains, and not one millisecond less', async () => {
    const state = await stateOn();
    let now = T0;
    const cache = new SharedCredentialCache(state, 10, () => now);
    await cache.get(
      'k',
      900,
      issuer(() => creds('A', T0 + 900_000)),
    );
    // Another instance (its own local cache) reads what Redis holds.
    const reader = new SharedCredentialCache(state, 10, () => now);
    now = T0 + 450_000; // 450,000 ms left of 900 s: exactly half
    expect(
      await reader.get(
        'k',
        900,
        issuer(() => creds('B', now + 900_000)),
      ),
    ).toMatchObject({
      credentials: { accessKeyId: 'A' },
      cached: true,
    });
    now = T0 + 450_001;
    const renew = issuer(() => creds('C', now + 900_000));
    expect(await new SharedCredentialCache(state, 10, () => now).get('k', 900, renew)).toMatchObject({
      credentials: { accessKeyId: 'C' },
      cached: false,
    });
    expect(renew.calls).toBe(1);
  });

  it('credentials with half their lifetime or less left are returned but not stored', async () => {
    const state = await stateOn();
    const cache = new SharedCredentialCache(state, 10, () => T0);
    // 900 s asked, 450 s left: nothing left to cache.
    const got = await cache.get(
      'short',
      900,
      issuer(() => creds('S', T0 + 450_000)),
    );
    expect(got).toEqual({ credentials: creds('S', T0 + 450_000), cached: false });
    expect(await admin().exists(`${state.prefix}cred:short`)).toBe(0);
    expect(await admin().exists(`${state.prefix}lock:short`)).toBe(0);
    expect(state.stats.cache.miss).toBe(1);
    // No write with a zero or negative expiry, which Redis refuses (and would count as Redis failing).
    expect(state.usable()).toBe(true);
    expect(state.status().state).toBe('shared');
  });

  it('concurrent misses in one instance share one round: one vendor call, the others are cached', async () => {
    const state = await stateOn();
    const cache = new SharedCredentialCache(state, 10, () => T0);
    const gate = deferred<IssuedCredentials>();
    const issue = issuer(() => gate.promise);
    const all = Promise.all([1, 2, 3].map(() => cache.get('k', 900, issue)));
    await waitFor('the vendor call', () => issue.calls === 1);
    gate.resolve(creds('A', T0 + 900_000));
    const results = await all;
    expect(issue.calls).toBe(1);
    expect(results.map((r) => [r.credentials.accessKeyId, r.cached])).toEqual([
      ['A', false],
      ['A', true],
      ['A', true],
    ]);
    // One round of Redis calls: the others neither waited on the lock nor read Redis.
    expect(state.stats.cache).toEqual({ hit: 0, miss: 1, waited: 0, undecryptable: 0, fallback: 0 });
  });

  it('a miss while another instance holds the lock waits for its value: one vendor call in all, counted as waited', async () => {
    const { b, gate, fromA } = await lockHeldByA();
    const second = issuer(() => creds('B', T0 + 900_000));
    // lockMs is 60 s; B's clock moves 200 ms per poll, so it would give up after 300 polls.
    const clock = waiterClock(200);
    const fromB = new SharedCredentialCache(b, 10, clock).get('k', 900, second);
    // B has polled twice and seen the lock still held, with no value: it keeps waiting.
    await waitFor('B polling the held lock', () => clock.reads >= 3);
    gate.resolve(creds('A', T0 + 900_000));
    expect(await fromA).toMatchObject({ credentials: { accessKeyId: 'A' }, cached: false });
    expect(await fromB).toEqual({ credentials: creds('A', T0 + 900_000), cached: true });
    expect(second.calls).toBe(0);
    expect(b.stats.cache).toEqual({ hit: 0, miss: 0, waited: 1, undecryptable: 0, fallback: 0 });
  });

  it('when the lock holder fails it releases the lock at once: the waiter calls the vendor itself, long before the lock would expire', async () => {
    // lockMs is 60 s: a waiter that waited for the lock to expire would time the test out.
    const { a, b, gate, fromA } = await lockHeldByA();
    const second = issuer(() => creds('B', T0 + 900_000));
    const clock = waiterClock(200);
    const fromB = new SharedCredentialCache(b, 10, clock).get('k', 900, second);
    await waitFor('B waiting for the lock', () => clock.reads >= 1);
    const readsAtRelease = clock.reads;
    gate.reject(new Error('sts down'));
    await expect(fromA).rejects.toThrow('sts down');
    expect(await fromB).toEqual({ credentials: creds('B', T0 + 900_000), cached: false });
    expect(second.calls).toBe(1);
    expect(a.stats.cache.miss).toBe(0);
    // B stopped at the release, far from the 300 polls after which it would have given up anyway.
    expect(clock.reads - readsAtRelease).toBeLessThan(100);
  });

  it('a lock held past its time with no value: the waiter gives up at lockMs and calls the vendor', async () => {
    const state = await stateOn(undefined, 300);
    // Someone else's lock that nobody releases (it outlives lockMs).
    await admin().set(`${state.prefix}lock:k`, 'someone-else', 'PX', 60_000);
    const issue = issuer(() => creds('W', Date.now() + 900_000));
    const got = await new SharedCredentialCache(state, 10).get('k', 900, issue);
    expect(got).toMatchObject({ credentials: { accessKeyId: 'W' }, cached: false });
    expect(issue.calls).toBe(1);
    // Its lock was not ours: left alone (released only by the token that took it).
    expect(await admin().get(`${state.prefix}lock:k`)).toBe('someone-else');
  });

  it('a value that does not open (tampered, garbage) is a miss, counted as undecryptable, and replaced', async () => {
    const state = await stateOn();
    await admin().set(`${state.prefix}cred:k`, 'not a sealed value', 'PX', 60_000);
    const issue = issuer(() => creds('N', T0 + 900_000));
    const got = await new SharedCredentialCache(state, 10, () => T0).get('k', 900, issue);
    expect(got).toEqual({ credentials: creds('N', T0 + 900_000), cached: false });
    expect(state.stats.cache).toEqual({ hit: 0, miss: 1, waited: 0, undecryptable: 1, fallback: 0 });
    const raw = await admin().get(`${state.prefix}cred:k`);
    expect(new Sealer([TEST_KEY]).open(raw!, `${state.prefix}cred:k`)?.accessKeyId).toBe('N');
  });

  it('a state marked unusable is not used even while Redis answers: nothing is read or written there', async () => {
    const live = await stateOn();
    const down: SharedState = { ...live, usable: () => false };
    const cache = new SharedCredentialCache(down, 10, () => T0);
    const issue = issuer(() => creds('L', T0 + 900_000));
    expect(await cache.get('k', 900, issue)).toMatchObject({ credentials: { accessKeyId: 'L' }, cached: false });
    expect(await cache.get('k', 900, issue)).toMatchObject({ credentials: { accessKeyId: 'L' }, cached: true });
    expect(await admin().keys(`${live.prefix}*`)).toEqual([]);
    expect(live.stats.cache).toEqual({ hit: 0, miss: 0, waited: 0, undecryptable: 0, fallback: 2 });
  });

  it.each(['get', 'set'])(
    'Redis failing on %s: the request falls back at once (no lock taken, nothing stored), the state is told',
    async (failing) => {
      const live = await stateOn();
      const flaky = flakyClient(live);
      flaky.control.failing.add(failing);
      const failures: unknown[] = [];
      const watched: SharedState = { ...flaky.state, failed: (err) => void failures.push(err) };
      const issue = issuer(() => creds('F', T0 + 900_000));
      const got = await new SharedCredentialCache(watched, 10, () => T0).get('k', 900, issue);
      expect(got).toEqual({ credentials: creds('F', T0 + 900_000), cached: false });
      expect(issue.calls).toBe(1);
      expect(live.stats.cache).toEqual({ hit: 0, miss: 0, waited: 0, undecryptable: 0, fallback: 1 });
      expect(failures).toHaveLength(1);
      expect((failures[0] as Error).message).toBe(`injected ${failing} failure`);
      expect(await admin().keys(`${live.prefix}*`)).toEqual([]);
    },
  );

  it.each(['exists', 'get'])(
    'Redis failing on %s while waiting for another instance: the waiter falls back and calls the vendor itself',
    async (failing) => {
      const { b, gate, fromA } = await lockHeldByA();
      const flaky = flakyClient(b);
      const clock = waiterClock(200);
      const second = issuer(() => creds('B', T0 + 900_000));
      const fromB = new SharedCredentialCache(flaky.state, 10, clock).get('k', 900, second);
      await waitFor('B waiting for the lock', () => clock.reads >= 1);
      flaky.control.failing.add(failing);
      expect(await fromB).toEqual({ credentials: creds('B', T0 + 900_000), cached: false });
      expect(second.calls).toBe(1);
      expect(b.stats.cache).toEqual({ hit: 0, miss: 0, waited: 0, undecryptable: 0, fallback: 1 });
      gate.resolve(creds('A', T0 + 900_000));
      await fromA;
    },
  );

  it("Redis not usable: the instance's own cache answers, each request counted as a fallback", async () => {
    const port = await freePort(); // nothing listens there
    const state = suite.track(
      createSharedState({ url: `redis://127.0.0.1:${port}`, keys: [TEST_KEY], timeoutMs: 200 }),
    );
    await state.settled();
    expect(state.usable()).toBe(false);
    const cache = new SharedCredentialCache(state, 10, () => T0);
    const issue = issuer(() => creds('L', T0 + 900_000));
    expect(await cache.get('k', 900, issue)).toMatchObject({ credentials: { accessKeyId: 'L' }, cached: false });
    expect(await cache.get('k', 900, issue)).toMatchObject({ credentials: { accessKeyId: 'L' }, cached: true });
    expect(issue.calls).toBe(1);
    expect(cache.size).toBe(1);
    expect(state.stats.cache).toEqual({ hit: 0, miss: 0, waited: 0, undecryptable: 0, fallback: 2 });
  });

  it('Redis failing during a request: that request falls back to the local cache, and the state says fallback', async () => {
    const own = await startRedis();
    try {
      const state = suite.track(
        createSharedState({ url: own.url, keys: [TEST_KEY], prefix: own.prefix, timeoutMs: 300 }),
      );
      await waitFor('the first connection to Redis', () => state.usable());
      const cache = new SharedCredentialCache(state, 10, () => T0);
      own.pause(); // answers nothing: the GET times out
      const issue = issuer(() => creds('F', T0 + 900_000));
      expect(await cache.get('k', 900, issue)).toMatchObject({ credentials: { accessKeyId: 'F' }, cached: false });
      expect(state.usable()).toBe(false);
      expect(state.stats.cache.fallback).toBe(1);
      expect(state.stats.cache.miss).toBe(0);
      expect(cache.size).toBe(1);
    } finally {
      own.resume();
      await own.stop();
    }
  });
});
