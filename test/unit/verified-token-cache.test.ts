// The verified-token cache of createTokenVerifier: a token presented again skips its signature
// check, but is refused exactly when an uncached one would be (expiry, age limits, clock going
// back), never crosses from one verifier (issuer, audience, algorithms) to another, is bounded, and
// lets a key removed from a JWKS stop working within its max age. jose's jwtVerify is wrapped in a
// spy to count signature checks. No broker, no RGW; the JWKS endpoint is HTTP on 127.0.0.1 port 0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { VerifiedTokenCache } from '../../server/auth/verified-token-cache.js';
import { createTokenVerifier, type TokenVerifierOptions } from '../../server/auth/verify-token.js';
import { AuthenticationError } from '../../server/errors.js';

vi.mock('jose', async (importOriginal) => {
  const original = await importOriginal<typeof import('jose')>();
  return { ...original, jwtVerify: vi.fn(original.jwtVerify) };
});
const checks = () => vi.mocked(jose.jwtVerify).mock.calls.length;

const ISS = 'https://idp.unit.test/';
const AUD = 'keyhole-unit';
const T = 1_900_000_000;

interface Key {
  privateKey: CryptoKey;
  jwk: JWK;
}
async function key(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
}
const sign = (k: Key, claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: ISS, aud: AUD, sub: 'alice', iat: T - 60, exp: T + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: k.jwk.kid! })
    .sign(k.privateKey);

/** "accepted", or the AuthenticationError code. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err: unknown) => (err instanceof AuthenticationError ? err.code : `unexpected ${String(err)}`),
  );

let k1: Key;
let k2: Key;
beforeAll(async () => {
  [k1, k2] = await Promise.all([key('k1'), key('k2')]);
});
beforeEach(() => {
  vi.mocked(jose.jwtVerify).mockClear();
});

/** A verifier for ISS/AUD with a static key set and a clock the test moves (seconds). */
function verifierAt(clock: { t: number }, extra: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [k1.jwk] } }],
    now: () => new Date(clock.t * 1000),
    ...extra,
  });
}

describe('a token presented again', () => {
  it('is checked once, and gives the same claims', async () => {
    const verify = verifierAt({ t: T });
    const token = await sign(k1, { groups: ['a'] });
    const first = await verify(token);
    const second = await verify(token);
    expect(checks()).toBe(1);
    expect(second).toEqual(first);
    expect(second.sub).toBe('alice');
  });

  it('cached claims cannot be altered by a caller', async () => {
    const verify = verifierAt({ t: T });
    const token = await sign(k1, { groups: ['a'] });
    await verify(token);
    const cached = await verify(token);
    expect(() => ((cached as Record<string, unknown>).sub = 'mallory')).toThrow(TypeError);
    expect(() => (cached.groups as string[]).push('admins')).toThrow(TypeError);
    expect((await verify(token)).sub).toBe('alice');
  });

  it('is checked every time with verifiedTokenCacheSeconds: 0 or verifiedTokenCacheMaxEntries: 0', async () => {
    const token = await sign(k1);
    for (const off of [{ verifiedTokenCacheSeconds: 0 }, { verifiedTokenCacheMaxEntries: 0 }]) {
      vi.mocked(jose.jwtVerify).mockClear();
      const verify = verifierAt({ t: T }, off);
      await verify(token);
      await verify(token);
      expect(checks()).toBe(2);
    }
  });

  it('failures are never cached: a bad token is checked, and refused, every time', async () => {
    const verify = verifierAt({ t: T });
    const forged = await sign(k2); // kid k2: not in the key set
    const wrongSig = (await sign(k1)).replace(/\.[^.]+$/, `.${(await sign(k2)).split('.')[2]}`);
    for (let i = 0; i < 2; i++) {
      expect(await outcome(verify(wrongSig))).toBe('invalid_signature');
      expect(await outcome(verify(forged))).toBe('unknown_key');
    }
    expect(checks()).toBe(4);
  });

  it('a token not yet valid when first seen is not remembered, and is accepted once valid', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock);
    const token = await sign(k1, { nbf: T + 100 });
    expect(await outcome(verify(token))).toBe('token_not_yet_valid');
    clock.t = T + 70; // nbf = now + 30: the tolerance
    expect(await outcome(verify(token))).toBe('accepted');
    expect(checks()).toBe(2);
  });
});

describe('expiry and age limits are checked on every use, as without the cache', () => {
  it('an expired token is refused even if cached, with the code an uncached one gets', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock, { clockToleranceSeconds: 30 });
    const token = await sign(k1, { exp: T + 20 });
    expect(await outcome(verify(token))).toBe('accepted');
    clock.t = T + 49; // exp = now − 29: still within the tolerance
    expect(await outcome(verify(token))).toBe('accepted');
    expect(checks()).toBe(1);
    clock.t = T + 50; // exp = now − 30: expired
    expect(await outcome(verify(token))).toBe('token_expired');
    expect(await outcome(verifierAt(clock, { verifiedTokenCacheSeconds: 0 })(token))).toBe('token_expired');
  });

  it('sub-second time does not keep an expired token alive (whole seconds, as jose)', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock, { clockToleranceSeconds: 0 });
    const token = await sign(k1, { exp: T + 10 });
    expect(await outcome(verify(token))).toBe('accepted');
    clock.t = T + 10.5;
    expect(await outcome(verify(token))).toBe('token_expired');
  });

  it('a token that grows too old while cached is refused as token_too_old', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock, { maxTokenAgeSeconds: 60, clockToleranceSeconds: 0 });
    const token = await sign(k1, { iat: T - 50, exp: T + 30 });
    expect(await outcome(verify(token))).toBe('accepted');
    clock.t = T + 10; // now − iat = 60: the limit
    expect(await outcome(verify(token))).toBe('accepted');
    clock.t = T + 11;
    expect(await outcome(verify(token))).toBe('token_too_old');
  });

  it('a clock that goes back is not trusted with cached answers: the token is verified afresh', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock);
    const token = await sign(k1, { nbf: T - 10 });
    expect(await outcome(verify(token))).toBe('accepted');
    clock.t = T - 100; // before nbf − tolerance
    expect(await outcome(verify(token))).toBe('token_not_yet_valid');
    expect(checks()).toBe(2);
    const plain = await sign(k1);
    clock.t = T;
    await verify(plain);
    clock.t = T - 1; // still valid, but earlier than it was stored: checked again
    expect(await outcome(verify(plain))).toBe('accepted');
    expect(checks()).toBe(4);
  });

  it('an entry is served for at most verifiedTokenCacheSeconds, then the token is checked again', async () => {
    const clock = { t: T };
    const verify = verifierAt(clock, { verifiedTokenCacheSeconds: 60 });
    const token = await sign(k1);
    await verify(token);
    clock.t = T + 59.9;
    await verify(token);
    expect(checks()).toBe(1);
    clock.t = T + 60;
    await verify(token);
    expect(checks()).toBe(2);
  });
});

describe('one cache per verifier: issuer, audience and algorithms are never bypassed', () => {
  it('a token accepted by one verifier is refused by another with a different audience', async () => {
    const token = await sign(k1);
    const mine = verifierAt({ t: T });
    expect(await outcome(mine(token))).toBe('accepted');
    const otherAudience = verifierAt(
      { t: T },
      { issuers: [{ issuer: ISS, audience: 'another-app', jwks: { keys: [k1.jwk] } }] },
    );
    expect(await outcome(otherAudience(token))).toBe('invalid_aud');
    expect(await outcome(mine(token))).toBe('accepted');
  });

  it('a token accepted by one verifier is refused by another trusting a different issuer or algorithm', async () => {
    const token = await sign(k1);
    expect(await outcome(verifierAt({ t: T })(token))).toBe('accepted');
    const otherIssuer = verifierAt(
      { t: T },
      { issuers: [{ issuer: 'https://other.unit.test/', audience: AUD, jwks: { keys: [k1.jwk] } }] },
    );
    expect(await outcome(otherIssuer(token))).toBe('invalid_iss');
    const rsaOnly = verifierAt(
      { t: T },
      { issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [k1.jwk] }, algorithms: ['RS256'] }] },
    );
    expect(await outcome(rsaOnly(token))).toBe('algorithm_not_allowed');
  });

  it('the same claims with another audience are another token: not served from the cache', async () => {
    const verify = verifierAt({ t: T });
    expect(await outcome(verify(await sign(k1)))).toBe('accepted');
    expect(await outcome(verify(await sign(k1, { aud: 'another-app' })))).toBe('invalid_aud');
    expect(await outcome(verify(await sign(k1, { iss: 'https://other.unit.test/' })))).toBe('invalid_iss');
  });
});

describe('bounded', () => {
  it('keeps at most verifiedTokenCacheMaxEntries tokens, dropping the least recently used', async () => {
    const verify = verifierAt({ t: T }, { verifiedTokenCacheMaxEntries: 2 });
    const [a, b, c] = await Promise.all([sign(k1, { sub: 'a' }), sign(k1, { sub: 'b' }), sign(k1, { sub: 'c' })]);
    await verify(a);
    await verify(b);
    expect(checks()).toBe(2);
    await verify(a); // hit: b is now the least recently used
    expect(checks()).toBe(2);
    await verify(c); // evicts b
    expect(checks()).toBe(3);
    await verify(a);
    await verify(c);
    expect(checks()).toBe(3);
    await verify(b);
    expect(checks()).toBe(4);
  });

  it('VerifiedTokenCache never holds more than its maximum', () => {
    const cache = new VerifiedTokenCache<{ n: number }>(100, 60_000);
    for (let n = 0; n < 1000; n++) cache.set(VerifiedTokenCache.keyFor(`token-${n}`), { n }, 0);
    expect(cache.size).toBe(100);
    expect(cache.get(VerifiedTokenCache.keyFor('token-999'), 1, () => true)).toEqual({ n: 999 });
    expect(cache.get(VerifiedTokenCache.keyFor('token-0'), 1, () => true)).toBeUndefined();
  });

  it.each([
    [{ verifiedTokenCacheMaxEntries: -1 }, 'options.verifiedTokenCacheMaxEntries must be an integer from 0 to 1000000'],
    [
      { verifiedTokenCacheMaxEntries: 1_000_001 },
      'options.verifiedTokenCacheMaxEntries must be an integer from 0 to 1000000',
    ],
    [{ verifiedTokenCacheSeconds: 301 }, 'options.verifiedTokenCacheSeconds must be an integer from 0 to 300'],
    [{ verifiedTokenCacheSeconds: 1.5 }, 'options.verifiedTokenCacheSeconds must be an integer from 0 to 300'],
  ])('%o is a RangeError', (extra, message) => {
    expect(() => verifierAt({ t: T }, extra)).toThrow(new RangeError(message));
  });
});

describe('a key removed from the JWKS', () => {
  let server: Server | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  /** A JWKS endpoint on loopback serving `keys()`. jose refetches it once its copy is 10 min old. */
  async function jwks(keys: () => JWK[]): Promise<string> {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: keys() }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  }

  // jose keeps the key set for 10 minutes (its cacheMaxAge) and the test clock is Date itself, which
  // both jose and the verifier read. The key set is first fetched at T; the token is first seen at
  // T+590 s; the key is removed then. jose refetches after T+600 s; the cache still answers for
  // tokens it has seen until T+650 s, and no longer.
  async function scenario(cacheSeconds: number) {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T * 1000);
    let keys = [k1.jwk, k2.jwk];
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwksUrl: await jwks(() => keys) }],
      verifiedTokenCacheSeconds: cacheSeconds,
    });
    const token = await sign(k1, { iat: T, exp: T + 3600 });
    expect(await outcome(verify(await sign(k2, { iat: T, exp: T + 3600 })))).toBe('accepted'); // fetch at T
    vi.setSystemTime((T + 590) * 1000);
    expect(await outcome(verify(token))).toBe('accepted');
    keys = [k2.jwk];
    const at = async (seconds: number) => {
      vi.setSystemTime((T + seconds) * 1000);
      return outcome(verify(token));
    };
    return at;
  }

  it('stops being accepted for a token already seen within verifiedTokenCacheSeconds of the key set refetch', async () => {
    const at = await scenario(60);
    expect(await at(620)).toBe('accepted'); // jose's copy is stale, but the cache answers
    expect(await at(649)).toBe('accepted');
    expect(await at(650)).toBe('unknown_key'); // 60 s after the token was first verified
  });

  it('without the cache, stops being accepted as soon as jose refetches the key set', async () => {
    const at = await scenario(0);
    expect(await at(599)).toBe('accepted'); // jose's own copy is still fresh
    expect(await at(601)).toBe('unknown_key');
  });
});
