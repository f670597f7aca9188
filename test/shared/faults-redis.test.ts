// Redis killed (SIGKILL) and restarted under concurrent load through haproxy, in front of three real
// broker processes configured only by environment: not one request fails. Each phase waits for a
// condition (N more answers, every broker's /readyz saying fallback, then shared again).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject } from '../helpers/broker.js';
import { startSharedRig, type BrokerProcess, type Haproxy, type SharedRig } from '../helpers/haproxy.js';
import type { TestIssuer } from '../helpers/jwt.js';
import { waitFor, type TestRedis } from '../helpers/redis.js';

let rig: SharedRig | undefined;
let redis: TestRedis;
let idp: TestIssuer;
let brokers: readonly BrokerProcess[];
let lb: Haproxy;

beforeAll(async () => {
  // Limits out of the way: this is about Redis failing, not about 429s.
  rig = await startSharedRig({ subject: 100_000, address: 100_000 });
  ({ redis, idp, brokers, lb } = rig);
}, 120_000);

afterAll(() => rig?.stop());

async function sharedStates(): Promise<string[]> {
  return Promise.all(
    brokers.map(async (b) => ((await (await fetch(`${b.url}/readyz`)).json()) as any).sharedState?.state as string),
  );
}

describe('Redis killed and restarted under load through haproxy, 3 brokers', () => {
  it('zero failed requests; every broker goes to fallback and back to shared', async () => {
    await waitFor('all three brokers shared', async () => (await sharedStates()).every((s) => s === 'shared'));
    // 12 subjects, each with a token valid for an hour (credentials are capped at the token's expiry).
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const tokens = await Promise.all(Array.from({ length: 12 }, () => idp.sign({ sub: freshSubject('rl'), exp })));
    const outcomes: { status: number; detail?: string }[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let n = w; !stop; n += 6) {
        try {
          const res = await fetch(`${lb!.url}/v1/credentials`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tokens[n % tokens.length]}`, 'x-forwarded-for': `203.0.113.${w + 1}` },
          });
          const body = (await res.json()) as any;
          outcomes.push(
            res.status === 200 && body.credentials?.accessKeyId
              ? { status: 200 }
              : { status: res.status, detail: JSON.stringify(body).slice(0, 200) },
          );
        } catch (err) {
          outcomes.push({ status: 0, detail: String(err) });
        }
      }
    };
    const traffic = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    const more = async (count: number) => {
      const target = outcomes.length + count;
      await waitFor(`${count} more answers`, () => outcomes.length >= target, 30_000);
    };
    let sawFallback: string[] = [];
    try {
      await more(60);
      await redis.kill();
      sawFallback = await waitFor('every broker in fallback', async () => {
        const s = await sharedStates();
        return s.every((x) => x === 'fallback') ? s : undefined;
      });
      await more(120); // served from each broker's own memory
      await redis.restart();
      await waitFor('every broker shared again', async () => (await sharedStates()).every((s) => s === 'shared'));
      await more(60);
    } finally {
      stop = true;
      await traffic;
    }
    expect(sawFallback).toEqual(['fallback', 'fallback', 'fallback']);
    expect(outcomes.length).toBeGreaterThanOrEqual(240);
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    // One fallback per broker, counted in its metrics (the fault really reached every instance).
    for (const b of brokers) {
      const text = await (await fetch(`${b.url}/metrics`)).text();
      expect(text).toMatch(/^keyhole_shared_state_fallbacks 1$/m);
      expect(text).toMatch(/^keyhole_shared_state_up 1$/m);
    }
  });
});
