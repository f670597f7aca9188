// Several broker instances on one real redis-server (a private one, on its own port), each with
// its own STS vendor against the real RGW: the credential cache and the rate limits are shared,
// concurrent misses make one STS call, secrets are sealed in Redis, and Redis failing (killed,
// paused) never fails a request.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerOptions, SharedState } from '../../server/index.js';
import { Sealer } from '../../server/shared/sealed.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';
import { sharedStateOn, startRedis, TEST_KEY, waitFor, type TestRedis } from '../helpers/redis.js';
import { stackVendor } from '../helpers/stack.js';

let redis: TestRedis;
let idp: TestIssuer;
beforeAll(async () => {
  redis = await startRedis();
  idp = await testIssuer();
});
afterAll(async () => {
  await redis?.stop();
});

interface Instance {
  readonly broker: TestBroker;
  readonly state: SharedState;
  readonly stateLogs: Record<string, unknown>[];
  readonly startLogs: number;
}

const running: Instance[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) {
    await i.broker.close();
    await i.state.close();
  }
});

async function instance(
  prefix: string,
  options: { keys?: readonly Buffer[]; timeoutMs?: number; broker?: Partial<BrokerOptions> } = {},
): Promise<Instance> {
  const { state, logs } = sharedStateOn(redis, {
    prefix,
    ...(options.keys ? { keys: options.keys } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
  // Connected before traffic: a slow first connection is logged as a fallback, which is not what is tested.
  await waitFor('the first connection to Redis', () => state.usable());
  const startLogs = logs.length;
  const broker = await startBroker({
    issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
    vendor: stackVendor(),
    sharedState: state,
    metrics: true,
    ...options.broker,
  });
  // Only what happened from here on: each test asserts the changes it causes.
  const i = { broker, state, stateLogs: logs, startLogs };
  running.push(i);
  return i;
}

const freshPrefix = () => `t${randomBytes(5).toString('hex')}:`;
const stsCalls = (instances: Instance[]) => instances.reduce((n, i) => n + i.broker.vendor.upstreamCalls(), 0);
const token = (sub: string) => idp.sign({ sub });
const readyz = async (i: Instance) => (await (await fetch(`${i.broker.url}/readyz`)).json()) as any;

/** Every string value under `prefix`. */
async function valuesUnder(prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if ((await redis.admin.type(key)) === 'string') out.set(key, (await redis.admin.get(key))!);
    }
  } while (cursor !== '0');
  return out;
}

describe('shared state in Redis, several instances', () => {
  it('two instances: concurrent misses make one STS call and every answer is the same credential', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const b = await instance(prefix);
    expect(a.state.status().state).toBe('shared');
    const t = await token(freshSubject('pair'));
    const answers = await Promise.all([a, b, a, b, a, b, a, b].map((i) => i.broker.credentials(t)));
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((r) => r.body.credentials.accessKeyId)).size).toBe(1);
    expect(stsCalls([a, b])).toBe(1);
    // Later, from either instance: still the same one, still one call.
    expect((await b.broker.credentials(t)).body.credentials.accessKeyId).toBe(answers[0]!.body.credentials.accessKeyId);
    // Another subject is another credential: STS calls grow with subjects, not instances.
    const other = await Promise.all([a, b].map(async (i) => i.broker.credentials(await token(freshSubject('other')))));
    expect(stsCalls([a, b])).toBe(3);
    expect(other[0]!.body.credentials.accessKeyId).not.toBe(answers[0]!.body.credentials.accessKeyId);
    expect(a.state.stats.cache.miss + b.state.stats.cache.miss).toBe(3);
    expect(a.state.stats.cache.waited + b.state.stats.cache.waited).toBeGreaterThanOrEqual(1);
    // Shared all along (a fallback would explain extra STS calls above).
    expect(
      [a, b].flatMap((i) => i.stateLogs.slice(i.startLogs).map((l) => `${String(l.event)} ${String(l.reason ?? '')}`)),
    ).toEqual([]);
  });

  it('secrets are never plain in Redis: every value under the prefix is sealed', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix, { broker: { rateLimit: { perSubject: { limit: 100, windowSeconds: 60 } } } });
    const bodies = await Promise.all(
      [1, 2, 3].map(async () => a.broker.credentials(await token(freshSubject('seal')))),
    );
    const values = await valuesUnder(prefix);
    const sealedKeys = [...values.keys()].filter((k) => k.startsWith(`${prefix}cred:`));
    expect(sealedKeys).toHaveLength(3); // positive control: the cache did write
    const everything = Buffer.from([...values.entries()].flat().join('\n'));
    for (const { body } of bodies) {
      for (const secret of [
        body.credentials.secretAccessKey,
        body.credentials.sessionToken,
        body.credentials.accessKeyId,
      ]) {
        expect(everything.includes(Buffer.from(secret))).toBe(false);
        expect(everything.includes(Buffer.from(secret).toString('base64'))).toBe(false);
      }
    }
    // ... and they do open with the key, bound to their own Redis key.
    const [key, value] = [sealedKeys[0]!, values.get(sealedKeys[0]!)!];
    const sealer = new Sealer([TEST_KEY]);
    expect(sealer.open(value, key)?.secretAccessKey).toMatch(/.+/);
    expect(sealer.open(value, sealedKeys[1]!)).toBeUndefined();
  });

  it('a tampered or undecryptable value is a miss, not an error; rotated keys still open old values', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix);
    const t = await token(freshSubject('tamper'));
    const first = await a.broker.credentials(t);
    expect(first.status).toBe(200);
    const [key] = [...(await valuesUnder(`${prefix}cred:`)).keys()];
    const value = (await redis.admin.get(key!))!;
    // Flip one character of the ciphertext: GCM refuses it.
    const parts = value.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    await redis.admin.set(key!, parts.join('.'), 'PX', 60_000);
    const second = await a.broker.credentials(t);
    expect(second.status).toBe(200);
    expect(second.body.credentials.accessKeyId).not.toBe(first.body.credentials.accessKeyId);
    expect(a.state.stats.cache.undecryptable).toBe(1);
    expect(a.broker.vendor.upstreamCalls()).toBe(2);
    // Garbage is a miss too.
    await redis.admin.set(key!, 'not a sealed value', 'PX', 60_000);
    expect((await a.broker.credentials(t)).status).toBe(200);
    expect(a.broker.vendor.upstreamCalls()).toBe(3);

    // Rotation: B encrypts with a new key and still opens A's values; A (old key only) cannot open B's.
    const newKey = randomBytes(32);
    const b = await instance(prefix, { keys: [newKey, TEST_KEY] });
    const fromB = await b.broker.credentials(t);
    expect(b.broker.vendor.upstreamCalls()).toBe(0);
    const third = await a.broker.credentials(t);
    expect(fromB.body.credentials.accessKeyId).toBe(third.body.credentials.accessKeyId);
    const u = await token(freshSubject('rotated'));
    const sealedByB = await b.broker.credentials(u);
    expect(b.broker.vendor.upstreamCalls()).toBe(1);
    const seenByA = await a.broker.credentials(u);
    expect(seenByA.status).toBe(200);
    expect(seenByA.body.credentials.accessKeyId).not.toBe(sealedByB.body.credentials.accessKeyId);
  });

  it('rate limits are counted across instances: per subject and per address', async () => {
    const prefix = freshPrefix();
    const rateLimit = { perSubject: { limit: 4, windowSeconds: 60 }, perAddress: { limit: 9, windowSeconds: 60 } };
    const a = await instance(prefix, { broker: { rateLimit } });
    const b = await instance(prefix, { broker: { rateLimit } });
    const t = await token(freshSubject('limited'));
    const statuses: number[] = [];
    for (const i of [a, b, a, b, a]) statuses.push((await i.broker.credentials(t)).status);
    // Each instance saw at most 3: alone, neither would refuse.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await b.broker.credentials(t);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Address: 6 requests so far from 127.0.0.1; 3 more subjects pass, the 10th request is refused.
    for (const i of [a, b, a]) expect((await i.broker.credentials(await token(freshSubject('addr')))).status).toBe(200);
    expect((await b.broker.credentials(await token(freshSubject('addr')))).status).toBe(429);
  });

  it('Redis killed under traffic: zero failed requests, one fallback line per instance, /readyz and metrics say so, then shared again', async () => {
    const prefix = freshPrefix();
    const rateLimit = {
      perSubject: { limit: 100_000, windowSeconds: 60 },
      perAddress: { limit: 100_000, windowSeconds: 60 },
    };
    const a = await instance(prefix, { broker: { rateLimit } });
    const b = await instance(prefix, { broker: { rateLimit } });
    const tokens = await Promise.all([1, 2, 3].map(() => token(freshSubject('load'))));
    const outcomes: number[] = [];
    let stop = false;
    const traffic = (async () => {
      for (let n = 0; !stop; n++) {
        const i = n % 2 === 0 ? a : b;
        const r = await i.broker.credentials(tokens[n % 3]!);
        outcomes.push(r.status);
      }
    })();
    const phase = async (count: number) => {
      const target = outcomes.length + count;
      await waitFor(`${count} more requests`, () => outcomes.length >= target);
    };
    try {
      await phase(30);
      await redis.kill();
      await waitFor('both instances in fallback', () => !a.state.usable() && !b.state.usable());
      await phase(60);
      const ready = await readyz(a);
      expect(ready.status).toBe('ready');
      expect(ready.sharedState).toMatchObject({ store: 'redis', state: 'fallback' });
      const metrics = await (await fetch(`${a.broker.url}/metrics`)).text();
      expect(metrics).toMatch(/^keyhole_shared_state_up 0$/m);
      expect(metrics).toMatch(/^keyhole_shared_state_fallbacks 1$/m);
      await redis.restart();
      await waitFor('both instances shared again', () => a.state.usable() && b.state.usable());
      await phase(30);
    } finally {
      stop = true;
      await traffic;
    }
    expect(outcomes.filter((s) => s !== 200)).toEqual([]);
    for (const i of [a, b]) {
      const events = i.stateLogs.slice(i.startLogs).map((l) => l.event);
      // one fallback, shared again: one line per change, not per request.
      expect(events).toEqual(['shared_state.fallback', 'shared_state.shared']);
      expect((await readyz(i)).sharedState).toMatchObject({ state: 'shared' });
    }
    // Shared again: a new subject gets one credential from both, with one STS call.
    const before = stsCalls([a, b]);
    const logged = [a, b].map((i) => i.stateLogs.length);
    const t = await token(freshSubject('after'));
    const [x, y] = await Promise.all([a.broker.credentials(t), b.broker.credentials(t)]);
    // On failure, say whether an instance fell back (and why) or the lock let both through.
    const why = () =>
      JSON.stringify({
        cache: [a.state.stats.cache, b.state.stats.cache],
        logs: [a, b].map((i, n) => i.stateLogs.slice(logged[n])),
      });
    expect(x.body.credentials.accessKeyId, why()).toBe(y.body.credentials.accessKeyId);
    expect(stsCalls([a, b]) - before, why()).toBe(1);
  });

  it('Redis that stops answering (paused) is a fallback after the timeout, never a failed request', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix, {
      timeoutMs: 200,
      broker: { rateLimit: { perSubject: { limit: 1000, windowSeconds: 60 } } },
    });
    const t = await token(freshSubject('slow'));
    expect((await a.broker.credentials(t)).status).toBe(200);
    redis.pause();
    try {
      const started = performance.now();
      const r = await a.broker.credentials(await token(freshSubject('slow2')));
      const took = performance.now() - started;
      expect(r.status).toBe(200);
      // One timeout (200 ms) per Redis step at most, then fallback: far below a client's patience.
      expect(took).toBeLessThan(3000);
      await waitFor('fallback', () => !a.state.usable());
      expect((await readyz(a)).sharedState).toMatchObject({ state: 'fallback' });
      expect((await a.broker.credentials(t)).status).toBe(200);
    } finally {
      redis.resume();
    }
    await waitFor('shared again', () => a.state.usable());
    expect(a.stateLogs.slice(a.startLogs).filter((l) => l.event === 'shared_state.fallback')).toHaveLength(1);
  });
});
