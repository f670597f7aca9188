import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../server/credential-cache.js';

const creds = (id: string, expiresInMs: number) => ({
  accessKeyId: id,
  secretAccessKey: 's',
  sessionToken: 't',
  expiration: new Date(Date.now() + expiresInMs),
});

describe('CredentialCache', () => {
  it('shares one in-flight issue among concurrent callers', async () => {
    const cache = new CredentialCache(10);
    let calls = 0;
    const issue = async () => (calls++, await new Promise((r) => setTimeout(r, 20)), creds('A', 900_000));
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.get('k', 900, issue)));
    expect(calls).toBe(1);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
    expect(results.every((r) => r.credentials.accessKeyId === 'A')).toBe(true);
  });

  it('reuses while at least half the lifetime remains, then issues anew', async () => {
    const cache = new CredentialCache(10);
    let n = 0;
    const first = await cache.get('k', 900, async () => creds(`A${++n}`, 451_000));
    const second = await cache.get('k', 900, async () => creds(`A${++n}`, 900_000));
    expect([first.cached, second.cached, second.credentials.accessKeyId]).toEqual([false, true, 'A1']);
    const cache2 = new CredentialCache(10);
    await cache2.get('k', 900, async () => creds('old', 449_000));
    const renewed = await cache2.get('k', 900, async () => creds('new', 900_000));
    expect([renewed.cached, renewed.credentials.accessKeyId]).toEqual([false, 'new']);
  });

  it('a failure is shared by concurrent waiters, not cached, and the next call retries', async () => {
    const cache = new CredentialCache(10);
    let calls = 0;
    const failing = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('sts down');
    };
    const outcomes = await Promise.allSettled([cache.get('k', 900, failing), cache.get('k', 900, failing)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(cache.size).toBe(0);
    const ok = await cache.get('k', 900, async () => creds('B', 900_000));
    expect(ok).toMatchObject({ cached: false, credentials: { accessKeyId: 'B' } });
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new CredentialCache(2);
    await cache.get('a', 900, async () => creds('a', 900_000));
    await cache.get('b', 900, async () => creds('b', 900_000));
    await cache.get('a', 900, async () => creds('a2', 900_000)); // touch a
    await cache.get('c', 900, async () => creds('c', 900_000)); // evicts b
    expect(cache.size).toBe(2);
    expect((await cache.get('a', 900, async () => creds('a3', 900_000))).cached).toBe(true);
    expect((await cache.get('b', 900, async () => creds('b2', 900_000))).cached).toBe(false);
  });
});
