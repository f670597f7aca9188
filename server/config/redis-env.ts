// Shared state in Redis: KEYHOLE_REDIS_URL switches it on, KEYHOLE_REDIS_KEYS seals the cached
// credentials. Without the URL nothing here is used and the broker keeps its state in memory.
import type { SharedStateOptions } from '../shared/state.js';
import type { Problems } from './problems.js';
import type { Variables } from './schema.js';

/** The Redis settings, without a logger (the entry point adds its own). */
export type RedisConfig = Omit<SharedStateOptions, 'logger'>;

export function redisFrom(c: Variables, problems: Problems): RedisConfig | undefined {
  const url = c.KEYHOLE_REDIS_URL;
  if (url === undefined) {
    // Keys without a URL mean an operator expected shared state and would silently not get it.
    if (c.KEYHOLE_REDIS_KEYS !== undefined && !problems.anyUnreadable(['KEYHOLE_REDIS_URL'])) {
      problems.add('KEYHOLE_REDIS_KEYS', 'is only used with KEYHOLE_REDIS_URL; set that too, or remove this');
    }
    return undefined;
  }
  const keys = problems.need(
    c.KEYHOLE_REDIS_KEYS,
    'KEYHOLE_REDIS_KEYS',
    'with KEYHOLE_REDIS_URL: credentials are encrypted in Redis',
  );
  if (!keys || problems.anyUnreadable(['KEYHOLE_REDIS_TIMEOUT_MS', 'KEYHOLE_REDIS_PREFIX'])) return undefined;
  return { url, keys, timeoutMs: c.KEYHOLE_REDIS_TIMEOUT_MS, prefix: c.KEYHOLE_REDIS_PREFIX };
}
