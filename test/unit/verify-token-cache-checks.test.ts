// createTokenVerifier: the option bounds at their exact values, every form of static key, and the
// verified-token cache's re-checks at their exact boundaries. Whether an answer came from the cache
// is observable: a cache hit returns the deep-frozen copy stored, a verification a new, unfrozen
// object. No broker, no RGW, a fixed clock.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, type TokenVerifierOptions, type TrustedIssuer } from '../../server/auth/verify-token.js';
import { KeyholeError } from '../../server/errors.js';

const ISS = 'https://idp.cache.test/';
const AUD = 'keyhole-cache';
const T = 1_900_000_000; // seconds

const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;

function sign(claims: Record<string, unknown>, key: KeyObject = ed.privateKey, alg = 'EdDSA'): Promise<string> {
  return new SignJWT({ iss: ISS, aud: AUD, sub: 'alice', ...claims })
    .setProtectedHeader({ alg })
    .sign(key as unknown as CryptoKey);
}

/** A verifier trusting the Ed25519 key, on a clock the test moves (seconds). */
function verifierAt(options: Partial<TokenVerifierOptions> = {}, issuer: Partial<TrustedIssuer> = {}) {
  const clock = { now: T };
  const verify = createTokenVerifier({
    issuers: [{ issuer: ISS, audience: AUD, publicKey: ed.publicKey, ...issuer } as TrustedIssuer],
    now: () => new Date(clock.now * 1000),
    ...options,
  });
  return { verify, clock };
}

type Verify = (token: string) => Promise<object>;

/** True when `verify(token)` is answered from the cache now (the stored copy is frozen, a fresh result is not). */
const fromCache = async (verify: Verify, token: string) => Object.isFrozen(await verify(token));

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as KeyholeError,
  );

describe('option bounds, at their exact values', () => {
  const issuers = [{ issuer: ISS, audience: AUD, publicKey: ed.publicKey }];
  it.each([
    ['verifiedTokenCacheMaxEntries', 1_000_000, 1_000_001, -1, 'an integer from 0 to 1000000'],
    ['verifiedTokenCacheSeconds', 300, 301, -1, 'an integer from 0 to 300'],
  ] as const)('%s: %i accepted; %i and %i are a RangeError', (option, highest, above, below, range) => {
    expect(() => createTokenVerifier({ issuers, [option]: highest })).not.toThrow();
    expect(() => createTokenVerifier({ issuers, [option]: 0 })).not.toThrow();
    for (const bad of [above, below]) {
      expect(() => createTokenVerifier({ issuers, [option]: bad })).toThrow(
        new RangeError(`options.${option} must be ${range}`),
      );
    }
  });

  it('an algorithm outside the asymmetric list is a TypeError naming the issuer, the list and the algorithm', () => {
    for (const alg of ['HS256', 'none', 'es256']) {
      expect(() =>
        createTokenVerifier({ issuers: [...issuers, { ...issuers[0]!, issuer: 'x', algorithms: ['ES256', alg] }] }),
      ).toThrow(
        new TypeError(
          `options.issuers[1].algorithms may only contain RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA; got "${alg}"`,
        ),
      );
    }
  });
});

describe('static keys: PEM string, KeyObject, JWK', () => {
  const rsaToken = () => sign({ exp: T + 300 }, rsa.privateKey, 'RS256');

  it('a PEM string without algorithms is imported for RS256', async () => {
    const { verify } = verifierAt({}, { publicKey: rsaPem });
    expect((await verify(await rsaToken())).sub).toBe('alice');
  });

  it('a PEM string is imported for the first listed algorithm', async () => {
    const { verify } = verifierAt({}, { publicKey: rsaPem, algorithms: ['PS256', 'RS256'] });
    const token = await sign({ exp: T + 300 }, rsa.privateKey, 'PS256');
    expect((await verify(token)).sub).toBe('alice');
  });

  it('a KeyObject is used as it is; a JWK object as a one-key set', async () => {
    expect((await verifierAt({}, { publicKey: rsa.publicKey }).verify(await rsaToken())).sub).toBe('alice');
    const jwk = await exportJWK(rsa.publicKey);
    expect((await verifierAt({}, { publicKey: jwk }).verify(await rsaToken())).sub).toBe('alice');
  });
});

describe('the verified-token cache', () => {
  it('on by default: after the first verification of a token, the same stored, frozen object', async () => {
    const { verify } = verifierAt();
    const token = await sign({ iat: T - 60, exp: T + 300 });
    const first = await verify(token);
    expect(Object.isFrozen(first)).toBe(false);
    const second = await verify(token);
    expect(Object.isFrozen(second)).toBe(true);
    expect(second).toEqual(first);
    expect(await verify(token)).toBe(second);
  });

  it.each([
    ['verifiedTokenCacheMaxEntries: 0', { verifiedTokenCacheMaxEntries: 0 }],
    ['verifiedTokenCacheSeconds: 0', { verifiedTokenCacheSeconds: 0 }],
  ])('off with %s: every verification is a new object', async (_name, options) => {
    const { verify } = verifierAt(options);
    const token = await sign({ iat: T - 60, exp: T + 300 });
    const first = await verify(token);
    expect(await fromCache(verify, token)).toBe(false);
    expect(await verify(token)).toEqual(first);
  });

  it('a token whose nbf is as late as the tolerance allows is served from the cache', async () => {
    const { verify } = verifierAt({ clockToleranceSeconds: 30 });
    const token = await sign({ nbf: T + 30, exp: T + 300 });
    await verify(token);
    expect(await fromCache(verify, token)).toBe(true);
    const early = await sign({ nbf: T, exp: T + 300 });
    await verify(early);
    expect(await fromCache(verify, early)).toBe(true);
  });

  it('lifetime: exp exactly maxTokenAge + tolerance ahead is accepted and cached; one second more is token_lifetime_too_long', async () => {
    const { verify } = verifierAt({ maxTokenAgeSeconds: 3600, clockToleranceSeconds: 30 });
    const atLimit = await sign({ exp: T + 3630 });
    await verify(atLimit);
    expect(await fromCache(verify, atLimit)).toBe(true);
    const within = await sign({ exp: T + 3600 });
    await verify(within);
    expect(await fromCache(verify, within)).toBe(true);
    const err = await failure(verify(await sign({ exp: T + 3631 })));
    expect([err?.code, err?.status, err?.message]).toEqual([
      'token_lifetime_too_long',
      401,
      'the token expires more than 3600 s from now; ask the issuer for a shorter-lived token',
    ]);
  });

  it('age: a cached token is served until it is maxTokenAge + tolerance old, then refused as token_too_old', async () => {
    const { verify, clock } = verifierAt({
      maxTokenAgeSeconds: 3600,
      clockToleranceSeconds: 30,
      verifiedTokenCacheSeconds: 300,
    });
    // Issued 3400 s ago, valid 3000 s more: it grows too old before it expires (and within the
    // 300 s an entry is kept).
    const token = await sign({ iat: T - 3400, exp: T + 3000 });
    await verify(token);
    clock.now = T + 215; // 3615 s old: within 3600 + 30
    expect(await fromCache(verify, token)).toBe(true);
    clock.now = T + 230; // exactly 3630 s old: still served
    expect(await fromCache(verify, token)).toBe(true);
    clock.now = T + 231;
    const err = await failure(verify(token));
    expect([err?.code, err?.status, err?.message]).toEqual([
      'token_too_old',
      401,
      'the token was issued more than 3600 s ago; sign in again',
    ]);
  });

  it('a token exactly maxTokenBytes long is cached; the size check sends only longer ones the uncached way', async () => {
    const probe = await sign({ exp: T + 300, pad: 'x'.repeat(300) });
    const { verify } = verifierAt({ maxTokenBytes: probe.length });
    await verify(probe);
    expect(await fromCache(verify, probe)).toBe(true);
    const err = await failure(verify(probe + 'A'));
    expect([err?.code, err?.message]).toEqual(['token_too_large', `the token is larger than ${probe.length} bytes`]);
  });
});

describe('claims jose refuses by name', () => {
  it('an iat that is not a number is 401 token_not_yet_valid (jose names the iat claim)', async () => {
    const { verify } = verifierAt();
    const err = await failure(verify(await sign({ iat: 'yesterday', exp: T + 300 })));
    expect([err?.code, err?.status, err?.message]).toEqual([
      'token_not_yet_valid',
      401,
      'the token was issued in the future (iat)',
    ]);
  });
});
