// One private redis-server for a test file, and connected shared states on it that are closed
// after each test: for unit tests of the Redis-backed cache and limits (no broker, no RGW).
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createSharedState, type SharedState } from '../../server/index.js';
import { startRedis, TEST_KEY, waitFor, type TestRedis } from './redis.js';

export interface RedisSuite {
  /** The file's redis-server (started in beforeAll). */
  readonly redis: () => TestRedis;
  /** A connected shared state on a fresh key prefix (or on `prefix`, to share it with another instance). */
  stateOn(prefix?: string, lockMs?: number): Promise<SharedState>;
  /** Closes `state` after the test, like those from stateOn. */
  track(state: SharedState): SharedState;
}

export function redisSuite(): RedisSuite {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const states: SharedState[] = [];
  afterEach(async () => {
    for (const s of states.splice(0)) await s.close();
  });
  const get = () => {
    if (!redis) throw new Error('redisSuite(): the redis-server starts in beforeAll');
    return redis;
  };
  return {
    redis: get,
    track: (state) => (states.push(state), state),
    async stateOn(prefix = `t${randomBytes(5).toString('hex')}:`, lockMs = 60_000) {
      const state = createSharedState({ url: get().url, keys: [TEST_KEY], prefix, timeoutMs: 2000, lockMs });
      states.push(state);
      await waitFor('the first connection to Redis', () => state.usable());
      return state;
    },
  };
}
