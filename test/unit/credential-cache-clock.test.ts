// The credential cache with an injected clock: reuse stops exactly at half the lifetime, keys
// separate every part of a request, and failures are never cached. Literal numbers on purpose.
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../server/credential-cache.js';
import type { IssuedCredentials } from '../../server/vendors/vendor.js';

const T0 = 1_800_000_000_000;

function clock(start = T0) {
  let now = start;
  return { now: () => now, set: (t: number) => void (now = t), advance: (ms: number) => void (now += ms) };
}
const creds = (id: string, expiresAt: number): IssuedCredentials => ({
  accessKeyId: id,
  secretAccessKey: `secret-${id}`,
  sessionToken: `token-${id}`,
  expiration: new Date(expiresAt),
});

describe('half-life, exactly at the bound (injected clock)', () => {
  it('900 s credentials are reused up to 450 s before expiry inclusive, and re-issued 1 ms later', async () => {
    const c = clock();
    const cache = new CredentialCache(10, c.now);
    let n = 0;
    const issue = async () => creds(`A${++n}`, c.now() + 900_000);
    expect(await cache.get('k', 900, issue)).toMatchObject({ cached: false, credentials: { accessKeyId: 'A1' } });
    c.advance(450_000); // exactly 450 s remain
    expect(await cache.get('k', 900, issue)).toMatchObject({ cached: true, credentials: { accessKeyId: 'A1' } });
    c.advance(1); // 449.999 s remain
    expect(await cache.get('k', 900, issue)).toMatchObject({ cached: false, credentials: { accessKeyId: 'A2' } });
    // The re-issued credentials are cached in turn.
    expect(await cache.get('k', 900, issue)).toMatchObject({ cached: true, credentials: { accessKeyId: 'A2' } });
    expect(n).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('the bound scales with the duration: 3600 s credentials are reused for 1800 s, not 450 s', async () => {
    const c = clock();
    const cache = new CredentialCache(10, c.now);
    let n = 0;
    const issue = async () => creds(`B${++n}`, c.now() + 3_600_000);
    await cache.get('k', 3600, issue);
    c.advance(1_799_999);
    expect((await cache.get('k', 3600, issue)).cached).toBe(true);
    c.advance(2); // 1799.999 s remain
    expect((await cache.get('k', 3600, issue)).cached).toBe(false);
    expect(n).toBe(2);
  });

  it('the remaining lifetime is measured from the credentials’ own expiration, not from when they were cached', async () => {
    const c = clock();
    const cache = new CredentialCache(10, c.now);
    // STS answered with credentials that already lost 460 s (clock skew, slow answer): not reusable.
    await cache.get('k', 900, async () => creds('short', c.now() + 440_000));
    const again = await cache.get('k', 900, async () => creds('fresh', c.now() + 900_000));
    expect(again).toMatchObject({ cached: false, credentials: { accessKeyId: 'fresh' } });
  });

  it('expired credentials are never returned', async () => {
    const c = clock();
    const cache = new CredentialCache(10, c.now);
    await cache.get('k', 900, async () => creds('old', c.now() + 900_000));
    c.advance(901_000);
    const out = await cache.get('k', 900, async () => creds('new', c.now() + 900_000));
    expect(out).toMatchObject({ cached: false, credentials: { accessKeyId: 'new' } });
  });

  it('the default clock is the real one', async () => {
    const cache = new CredentialCache(10);
    await cache.get('k', 900, async () => creds('a', Date.now() + 900_000));
    expect((await cache.get('k', 900, async () => creds('b', Date.now() + 900_000))).cached).toBe(true);
    await cache.get('j', 900, async () => creds('c', Date.now() + 449_000));
    expect((await cache.get('j', 900, async () => creds('d', Date.now() + 900_000))).credentials.accessKeyId).toBe('d');
  });
});

describe('keys', () => {
  it('are deterministic, opaque (sha-256, base64url) and differ when any part differs', () => {
    const parts = ['sts', 'alice', 'kh-alice-xyz', '{"Version":"2012-10-17"}', '900'];
    const key = CredentialCache.keyFor(parts);
    expect(key).toBe(CredentialCache.keyFor([...parts]));
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (let i = 0; i < parts.length; i++) {
      const changed = parts.map((p, j) => (j === i ? p + 'x' : p));
      expect(CredentialCache.keyFor(changed)).not.toBe(key);
    }
  });

  it('part boundaries matter: ["ab","c"] and ["a","bc"] are different requests', () => {
    expect(CredentialCache.keyFor(['ab', 'c'])).not.toBe(CredentialCache.keyFor(['a', 'bc']));
    expect(CredentialCache.keyFor(['a', ''])).not.toBe(CredentialCache.keyFor(['a']));
  });
});

describe('entries', () => {
  it('different keys never share credentials', async () => {
    const c = clock();
    const cache = new CredentialCache(10, c.now);
    const a = await cache.get('a', 900, async () => creds('A', c.now() + 900_000));
    const b = await cache.get('b', 900, async () => creds('B', c.now() + 900_000));
    expect([a.credentials.accessKeyId, b.credentials.accessKeyId, b.cached]).toEqual(['A', 'B', false]);
    expect(cache.size).toBe(2);
    cache.clear();
    expect(cache.size).toBe(0);
    expect((await cache.get('a', 900, async () => creds('A2', c.now() + 900_000))).cached).toBe(false);
  });

  it('maxEntries 1 keeps only the latest key', async () => {
    const c = clock();
    const cache = new CredentialCache(1, c.now);
    await cache.get('a', 900, async () => creds('A', c.now() + 900_000));
    await cache.get('b', 900, async () => creds('B', c.now() + 900_000));
    expect(cache.size).toBe(1);
    expect((await cache.get('b', 900, async () => creds('B2', c.now() + 900_000))).cached).toBe(true);
    expect((await cache.get('a', 900, async () => creds('A2', c.now() + 900_000))).credentials.accessKeyId).toBe('A2');
  });

  it('a failed issue is not cached, and waiters that joined it get the same error', async () => {
    const cache = new CredentialCache(10, clock().now);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const failing = async (): Promise<IssuedCredentials> => {
      await gate;
      throw new Error('AccessDenied');
    };
    const first = cache.get('k', 900, failing);
    const second = cache.get('k', 900, async () => creds('never', T0 + 900_000));
    expect(cache.size).toBe(1);
    release();
    await expect(first).rejects.toThrow('AccessDenied');
    await expect(second).rejects.toThrow('AccessDenied');
    expect(cache.size).toBe(0);
  });

  it('a failing issue that was evicted while in flight does not remove the entry that replaced it', async () => {
    const c = clock();
    const cache = new CredentialCache(1, c.now);
    let fail!: (e: Error) => void;
    const pending = cache.get('a', 900, () => new Promise<IssuedCredentials>((_r, reject) => (fail = reject)));
    await cache.get('b', 900, async () => creds('B', c.now() + 900_000)); // evicts "a"
    // "a" again: a new entry under the same key, issued while the first is still pending.
    const second = await cache.get('a', 900, async () => creds('A2', c.now() + 900_000));
    expect(second.cached).toBe(false);
    fail(new Error('late failure'));
    await expect(pending).rejects.toThrow('late failure');
    expect((await cache.get('a', 900, async () => creds('A3', c.now() + 900_000))).credentials.accessKeyId).toBe('A2');
  });
});
