// createTokenVerifier: every option check and every error mapping, with exact codes, messages and
// causes. No broker, no RGW; JWKS endpoints are HTTP servers on 127.0.0.1 port 0.
import { KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors as joseErrors, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type TrustedIssuer } from '../../server/auth/verify-token.js';
import { AuthenticationError, KeyholeError } from '../../server/errors.js';

const ISS = 'https://idp.unit.test/';
const AUD = 'keyhole-unit';
const T = 1_900_000_000;
const at = () => new Date(T * 1000);

interface Key {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}
async function key(kid: string, alg: 'ES256' | 'RS256' = 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}
function sign(k: Key, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  if ('crit' in header) {
    // jose will not sign an unknown critical header; sign it by hand (ES256, IEEE P1363).
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'ES256', kid: k.jwk.kid, ...header })}.${b64({ iss: ISS, aud: AUD, sub: 'alice', iat: T - 60, exp: T + 300, ...claims })}`;
    const sig = cryptoSign('sha256', Buffer.from(input), {
      key: KeyObject.from(k.privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    return Promise.resolve(`${input}.${sig.toString('base64url')}`);
  }
  return new SignJWT({ iss: ISS, aud: AUD, sub: 'alice', iat: T - 60, exp: T + 300, ...claims })
    .setProtectedHeader({ alg: k.jwk.alg!, kid: k.jwk.kid!, ...header })
    .sign(k.privateKey);
}
const issuer = (extra: Partial<TrustedIssuer> & Record<string, unknown>) =>
  ({ issuer: ISS, audience: AUD, ...extra }) as TrustedIssuer;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as KeyholeError,
  );

let k1: Key;
let k2: Key;
beforeAll(async () => {
  [k1, k2] = await Promise.all([key('k1'), key('k2')]);
});

/** A JWKS endpoint whose keys (or whole body) can be swapped; counts fetches. */
async function jwksServer(body: () => unknown) {
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, fetches: () => fetches };
}
const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('options', () => {
  it.each([
    [undefined, 'options.issuers must be a non-empty array'],
    [{}, 'options.issuers must be a non-empty array'],
    [{ issuers: 'x' }, 'options.issuers must be a non-empty array'],
    [{ issuers: [] }, 'options.issuers must be a non-empty array'],
    [{ issuers: [null] }, 'options.issuers[0].issuer must be a non-empty string'],
    [
      { issuers: [{ issuer: '', audience: AUD, jwks: { keys: [] } }] },
      'options.issuers[0].issuer must be a non-empty string',
    ],
    [
      { issuers: [{ issuer: 7, audience: AUD, jwks: { keys: [] } }] },
      'options.issuers[0].issuer must be a non-empty string',
    ],
    [
      { issuers: [{ issuer: ISS, jwks: { keys: [] } }] },
      'options.issuers[0].audience must be a non-empty string or array of strings',
    ],
    [
      { issuers: [{ issuer: ISS, audience: [], jwks: { keys: [] } }] },
      'options.issuers[0].audience must be a non-empty string or array of strings',
    ],
    [
      { issuers: [{ issuer: ISS, audience: '', jwks: { keys: [] } }] },
      'options.issuers[0].audience must be a non-empty string or array of strings',
    ],
    [
      { issuers: [{ issuer: ISS, audience: ['a', ''], jwks: { keys: [] } }] },
      'options.issuers[0].audience must be a non-empty string or array of strings',
    ],
    [
      { issuers: [{ issuer: ISS, audience: ['a', 1], jwks: { keys: [] } }] },
      'options.issuers[0].audience must be a non-empty string or array of strings',
    ],
    [
      { issuers: [{ issuer: ISS, audience: AUD }] },
      'options.issuers[0] must set exactly one of jwksUrl, jwks, publicKey (got none)',
    ],
    [
      { issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [] }, publicKey: 'x' }] },
      'options.issuers[0] must set exactly one of jwksUrl, jwks, publicKey (got jwks, publicKey)',
    ],
    [
      {
        issuers: [
          { issuer: ISS, audience: AUD, jwks: { keys: [] } },
          { issuer: ISS, audience: AUD, jwks: { keys: [] } },
        ],
      },
      `options.issuers[1].issuer "${ISS}" is listed twice`,
    ],
    [
      { issuers: [{ issuer: ISS, audience: AUD, jwksUrl: 'http://idp.example.com/jwks' }] },
      'options.issuers[0].jwksUrl must be https (http is allowed on loopback only)',
    ],
    [
      { issuers: [{ issuer: ISS, audience: AUD, jwksUrl: 'ftp://127.0.0.1/jwks' }] },
      'options.issuers[0].jwksUrl must be https (http is allowed on loopback only)',
    ],
    [
      { issuers: [{ issuer: ISS, audience: AUD, jwksUrl: 'http://127.0.0.2/jwks' }] },
      'options.issuers[0].jwksUrl must be https (http is allowed on loopback only)',
    ],
  ])('%j → TypeError %s', (options, message) => {
    expect(() => createTokenVerifier(options as never)).toThrow(new TypeError(message));
  });

  it.each([
    'https://idp.example.com/jwks',
    'http://127.0.0.1:9/jwks',
    'http://localhost:9/jwks',
    'http://[::1]:9/jwks',
  ])('jwksUrl %s is accepted', (jwksUrl) => {
    expect(() => createTokenVerifier({ issuers: [issuer({ jwksUrl })] })).not.toThrow();
  });

  it.each([59, 31_536_001, 3600.5])('maxTokenAgeSeconds %s is a RangeError', (maxTokenAgeSeconds) => {
    expect(() => createTokenVerifier({ issuers: [issuer({ jwks: { keys: [] } })], maxTokenAgeSeconds })).toThrow(
      new RangeError('options.maxTokenAgeSeconds must be an integer from 60 to 31536000'),
    );
  });

  it.each([60, 31_536_000])('maxTokenAgeSeconds %s is accepted', (maxTokenAgeSeconds) => {
    expect(() => createTokenVerifier({ issuers: [issuer({ jwks: { keys: [] } })], maxTokenAgeSeconds })).not.toThrow();
  });

  it('a public key may be a PEM string, a JWK object or a key object', async () => {
    for (const publicKey of [k1.jwk, k1.publicKey]) {
      const verify = createTokenVerifier({ issuers: [issuer({ publicKey })], now: at });
      expect((await verify(await sign(k1))).sub).toBe('alice');
    }
    const jwkVerify = createTokenVerifier({ issuers: [issuer({ publicKey: k1.jwk })], now: at });
    expect(await failure(jwkVerify(await sign(k2, {}, { kid: 'k1' })))).toMatchObject({ code: 'invalid_signature' });
    // A JWK names its kid: a token naming another kid does not match it, even if signed by its key.
    expect(await failure(jwkVerify(await sign(k1, {}, { kid: 'other' })))).toMatchObject({ code: 'unknown_key' });
  });
});

describe('error mapping: code, message and cause', () => {
  const verify = () => createTokenVerifier({ issuers: [issuer({ jwks: { keys: [k1.jwk] } })], now: at });

  it.each([
    ['expired', { exp: T - 60 }, {}, 'token_expired', 'the token has expired', joseErrors.JWTExpired],
    [
      'not yet valid',
      { nbf: T + 120 },
      {},
      'token_not_yet_valid',
      'the token is not valid yet (nbf)',
      joseErrors.JWTClaimValidationFailed,
    ],
    [
      'wrong audience',
      { aud: 'other' },
      {},
      'invalid_aud',
      'the token\'s "aud" claim is not accepted',
      joseErrors.JWTClaimValidationFailed,
    ],
    [
      'unknown kid',
      {},
      { kid: 'nope' },
      'unknown_key',
      'no trusted key matches the token (kid)',
      joseErrors.JWKSNoMatchingKey,
    ],
    [
      'unknown critical header',
      {},
      { crit: ['x-must'], 'x-must': 1 },
      'invalid_token',
      'the token is invalid: ERR_JOSE_NOT_SUPPORTED',
      joseErrors.JOSENotSupported,
    ],
  ] as const)('%s', async (_l, claims, header, code, message, cause) => {
    const err = await failure(verify()(await sign(k1, claims, header)));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, code, message });
    expect(err!.cause).toBeInstanceOf(cause);
  });

  it('a bad signature is invalid_signature, caused by jose’s verification error', async () => {
    const err = await failure(verify()(await sign(k2, {}, { kid: 'k1' })));
    expect(err).toMatchObject({ code: 'invalid_signature', message: 'the token signature is invalid' });
    expect(err!.cause).toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);
  });

  it('a kid that matches two keys of the set is refused as unknown_key, "ambiguous", even if one of them signed it', async () => {
    const twins = createTokenVerifier({
      issuers: [issuer({ jwks: { keys: [k1.jwk, { ...k2.jwk, kid: 'k1' }] } })],
      now: at,
    });
    const err = await failure(twins(await sign(k1)));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: 'unknown_key', message: 'the token kid is ambiguous' });
    expect(err!.cause).toBeInstanceOf(joseErrors.JWKSMultipleMatchingKeys);
    // Positive control: with the kids told apart, the same token is accepted.
    const apart = createTokenVerifier({ issuers: [issuer({ jwks: { keys: [k1.jwk, k2.jwk] } })], now: at });
    expect((await apart(await sign(k1))).sub).toBe('alice');
  });

  it('an algorithm outside the issuer’s list is algorithm_not_allowed', async () => {
    const rsa = await key('k1', 'RS256');
    const v = createTokenVerifier({ issuers: [issuer({ jwks: { keys: [rsa.jwk] }, algorithms: ['ES256'] })], now: at });
    const err = await failure(v(await sign(rsa)));
    expect(err).toMatchObject({ code: 'algorithm_not_allowed', message: 'the token algorithm is not allowed' });
    expect(err!.cause).toBeInstanceOf(joseErrors.JOSEAlgNotAllowed);
  });

  it.each([
    [undefined, 'missing_token', 'a bearer token is required'],
    ['', 'missing_token', 'a bearer token is required'],
    ['a.b.c', 'malformed_token', 'the token is not a well-formed JWT'],
  ])('%j → %s, with no cause of its own unless parsing failed', async (token, code, message) => {
    const err = await failure(verify()(token as never));
    expect(err).toMatchObject({ code, message });
    expect(Object.hasOwn(err!, 'cause')).toBe(code === 'malformed_token');
  });

  it('an unknown issuer is invalid_iss and a non-string sub is invalid_sub, with their messages', async () => {
    expect(await failure(verify()(await sign(k1, { iss: 'https://evil/' })))).toMatchObject({
      code: 'invalid_iss',
      message: 'the token\'s "iss" claim is not accepted',
    });
    expect(await failure(verify()(await sign(k1, { sub: 12 })))).toMatchObject({
      code: 'invalid_sub',
      message: 'the token has no string "sub" claim',
    });
  });

  it('a JWKS endpoint answering something that is not a key set is 503 jwks_unavailable', async () => {
    const bad = await jwksServer(() => ({ keys: 'not a list' }));
    const v = createTokenVerifier({ issuers: [issuer({ jwksUrl: bad.url })], now: at });
    const err = await failure(v(await sign(k1)));
    expect(err).not.toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({
      status: 503,
      code: 'jwks_unavailable',
      message: 'the issuer key set could not be fetched',
    });
    expect(err!.cause).toBeInstanceOf(joseErrors.JWKSInvalid);
  });

  it('an unreachable JWKS is 503 jwks_unavailable with the network error as cause', async () => {
    const v = createTokenVerifier({ issuers: [issuer({ jwksUrl: 'http://127.0.0.1:1/jwks' })], now: at });
    const err = await failure(v(await sign(k1)));
    expect(err).toMatchObject({
      status: 503,
      code: 'jwks_unavailable',
      message: 'the issuer key set could not be fetched',
    });
    expect(err!.cause).toBeInstanceOf(Error);
  });
});

describe('remote JWKS cooldown', () => {
  it('default 30 s: a burst of unknown kids refetches at most once', async () => {
    const jwks = await jwksServer(() => ({ keys: [k1.jwk] }));
    const v = createTokenVerifier({ issuers: [issuer({ jwksUrl: jwks.url })], now: at });
    expect((await v(await sign(k1))).sub).toBe('alice');
    for (let i = 0; i < 4; i++) await failure(v(await sign(k1, {}, { kid: `x${i}` })));
    expect(jwks.fetches()).toBeLessThanOrEqual(2);
  });

  it('jwksCooldownSeconds: 0 picks up a rotated key at once', async () => {
    let keys = [k1.jwk];
    const jwks = await jwksServer(() => ({ keys }));
    const v = createTokenVerifier({ issuers: [issuer({ jwksUrl: jwks.url, jwksCooldownSeconds: 0 })], now: at });
    expect((await v(await sign(k1))).sub).toBe('alice');
    keys = [k2.jwk];
    expect((await v(await sign(k2))).sub).toBe('alice');
  });
});

describe('token age limits (default 86400 s, plus the clock tolerance)', () => {
  const verify = (maxTokenAgeSeconds?: number) =>
    createTokenVerifier({
      issuers: [issuer({ jwks: { keys: [k1.jwk] } })],
      now: at,
      ...(maxTokenAgeSeconds ? { maxTokenAgeSeconds } : {}),
    });

  it('exp up to 86400 + 30 s ahead is accepted; one second more is token_lifetime_too_long', async () => {
    expect((await verify()(await sign(k1, { exp: T + 86430 }))).sub).toBe('alice');
    expect(await failure(verify()(await sign(k1, { exp: T + 86431 })))).toMatchObject({
      code: 'token_lifetime_too_long',
      message: 'the token expires more than 86400 s from now; ask the issuer for a shorter-lived token',
    });
  });

  it('iat up to 86400 + 30 s ago is accepted; one second more is token_too_old', async () => {
    expect((await verify()(await sign(k1, { iat: T - 86430 }))).sub).toBe('alice');
    expect(await failure(verify()(await sign(k1, { iat: T - 86431 })))).toMatchObject({
      code: 'token_too_old',
      message: 'the token was issued more than 86400 s ago; sign in again',
    });
  });

  it('a custom maximum of 60 s', async () => {
    expect((await verify(60)(await sign(k1, { exp: T + 90, iat: T - 90 }))).sub).toBe('alice');
    expect(await failure(verify(60)(await sign(k1, { exp: T + 91 })))).toMatchObject({
      code: 'token_lifetime_too_long',
      message: 'the token expires more than 60 s from now; ask the issuer for a shorter-lived token',
    });
    expect(await failure(verify(60)(await sign(k1, { iat: T - 91, exp: T + 60 })))).toMatchObject({
      code: 'token_too_old',
    });
  });
});
