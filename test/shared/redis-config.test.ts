// KEYHOLE_REDIS_* from the environment: off by default, every wrong value one problem naming its
// variable, all reported at once. No Redis and no network needed.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../server/config.js';

const base = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_BUCKET: 'uploads',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
  KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
  KEYHOLE_JWT_AUDIENCE: 'keyhole',
  KEYHOLE_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
};
const key = () => randomBytes(32).toString('base64');

function problems(env: Record<string, string>) {
  const r = parseConfig({ ...base, ...env });
  return r.ok ? [] : r.problems.map((p) => `${p.variable}: ${p.message}`);
}

describe('KEYHOLE_REDIS_*', () => {
  it('is off by default: no Redis, in-process state', () => {
    const r = parseConfig(base);
    expect(r.ok && r.config.redis).toBeUndefined();
  });

  it('reads the URL, the keys (first encrypts), the timeout and the prefix', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const r = parseConfig({
      ...base,
      KEYHOLE_REDIS_URL: 'redis://:pw@10.0.0.5:6380/2',
      KEYHOLE_REDIS_KEYS: `${k1.toString('base64')}, ${k2.toString('base64url')}`,
      KEYHOLE_REDIS_TIMEOUT_MS: '150',
      KEYHOLE_REDIS_PREFIX: 'app1:',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.redis).toEqual({
      url: 'redis://:pw@10.0.0.5:6380/2',
      keys: [k1, k2],
      timeoutMs: 150,
      prefix: 'app1:',
    });
    const defaults = parseConfig({
      ...base,
      KEYHOLE_REDIS_URL: 'rediss://cache.example.com:6379',
      KEYHOLE_REDIS_KEYS: key(),
    });
    expect(defaults.ok && defaults.config.redis).toMatchObject({ timeoutMs: 200, prefix: 'keyhole:' });
  });

  it('reports every wrong variable at once, each by name', () => {
    expect(
      problems({
        KEYHOLE_REDIS_URL: 'http://127.0.0.1:6379',
        KEYHOLE_REDIS_KEYS: randomBytes(16).toString('base64'),
        KEYHOLE_REDIS_TIMEOUT_MS: '5',
        KEYHOLE_REDIS_PREFIX: 'has space',
      }),
    ).toEqual([
      'KEYHOLE_REDIS_URL: expected a Redis URL such as redis://127.0.0.1:6379 or rediss://user:password@host:6380',
      'KEYHOLE_REDIS_KEYS: expected a comma list of 32-byte keys in base64, the first one encrypting (openssl rand -base64 32)',
      'KEYHOLE_REDIS_TIMEOUT_MS: expected an integer from 10 to 10000 (got "5")',
      'KEYHOLE_REDIS_PREFIX: expected up to 64 letters, digits or _ : . - such as "keyhole:" (got "has space")',
    ]);
  });

  it('needs keys with a URL, and refuses keys without one', () => {
    expect(problems({ KEYHOLE_REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([
      'KEYHOLE_REDIS_KEYS: is required with KEYHOLE_REDIS_URL: credentials are encrypted in Redis',
    ]);
    expect(problems({ KEYHOLE_REDIS_KEYS: key() })).toEqual([
      'KEYHOLE_REDIS_KEYS: is only used with KEYHOLE_REDIS_URL; set that too, or remove this',
    ]);
  });

  it('neither a key nor a URL (which may hold a password) is ever echoed in a problem', () => {
    const good = key();
    const lines = problems({
      KEYHOLE_REDIS_URL: 'redis:// :secretpw@',
      KEYHOLE_REDIS_KEYS: `${good},${'A'.repeat(44)}`,
    });
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(good.slice(0, 12));
    expect(lines.join('\n')).not.toContain('secretpw');
  });
});
