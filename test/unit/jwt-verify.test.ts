// The token verifier on its own, with no broker and no RGW: clock-skew bounds (moved here from
// test/security/jwt-attacks.test.ts so they run in `npm run test:unit`), the token size limit and
// the algorithm allow-list, each stated as a literal so a changed constant fails here.
import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, DEFAULT_ALGORITHMS } from '../../server/auth/verify-token.js';
import { AuthenticationError, KeyholeError } from '../../server/errors.js';

const ISSUER = 'https://idp.unit.test/';
const AUDIENCE = 'keyhole-unit';
const T = 1_900_000_000;

let privateKey: CryptoKey;
let jwk: JWK;
let pem: string;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'ES256' };
  pem = await exportSPKI(pair.publicKey);
});

const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: T - 600, exp: T + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'k', typ: 'JWT', ...header })
    .sign(privateKey);

const verifierAt = (seconds: number, extra: { clockToleranceSeconds?: number; maxTokenBytes?: number } = {}) =>
  createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [jwk] } }],
    now: () => new Date(seconds * 1000),
    ...extra,
  });

/** "accepted", or the AuthenticationError code; anything else is reported as unexpected. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err: unknown) =>
      err instanceof AuthenticationError ? err.code : `unexpected ${(err as Error)?.name}: ${String(err)}`,
  );

describe('clock-skew tolerance, exactly at its bounds (fixed clock)', () => {
  it('default 30 s: exp = now−29 is accepted, exp = now−30 is expired', async () => {
    expect(await outcome(verifierAt(T)(await sign({ exp: T - 29 })))).toBe('accepted');
    expect(await outcome(verifierAt(T)(await sign({ exp: T - 30 })))).toBe('token_expired');
  });

  it('default 30 s: nbf = now+30 is accepted, nbf = now+31 is not yet valid', async () => {
    expect(await outcome(verifierAt(T)(await sign({ nbf: T + 30 })))).toBe('accepted');
    expect(await outcome(verifierAt(T)(await sign({ nbf: T + 31 })))).toBe('token_not_yet_valid');
  });

  it('sub-second clock time does not widen the window (whole seconds, floored)', async () => {
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [jwk] } }],
      now: () => new Date(T * 1000 + 999),
    });
    expect(await outcome(verify(await sign({ exp: T - 30 })))).toBe('token_expired');
    expect(await outcome(verify(await sign({ nbf: T + 31 })))).toBe('token_not_yet_valid');
  });

  it('tolerance 0: exp = now is expired, exp = now+1 is accepted; nbf = now+1 is refused', async () => {
    const v = verifierAt(T, { clockToleranceSeconds: 0 });
    expect(await outcome(v(await sign({ exp: T })))).toBe('token_expired');
    expect(await outcome(v(await sign({ exp: T + 1 })))).toBe('accepted');
    expect(await outcome(v(await sign({ nbf: T + 1 })))).toBe('token_not_yet_valid');
  });

  it('tolerance 300 (the maximum) is honoured: exp = now−299 accepted, exp = now−300 expired', async () => {
    const v = verifierAt(T, { clockToleranceSeconds: 300 });
    expect(await outcome(v(await sign({ exp: T - 299 })))).toBe('accepted');
    expect(await outcome(v(await sign({ exp: T - 300 })))).toBe('token_expired');
  });

  it.each([
    [-1, 'options.clockToleranceSeconds must be an integer from 0 to 300'],
    [301, 'options.clockToleranceSeconds must be an integer from 0 to 300'],
    [1.5, 'options.clockToleranceSeconds must be an integer from 0 to 300'],
  ])('tolerance %s is a RangeError naming the option', (tolerance, message) => {
    expect(() =>
      createTokenVerifier({
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [] } }],
        clockToleranceSeconds: tolerance,
      }),
    ).toThrow(new RangeError(message));
  });

  it('tolerances 0 and 300 are accepted', () => {
    for (const clockToleranceSeconds of [0, 300]) {
      expect(() =>
        createTokenVerifier({
          issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [] } }],
          clockToleranceSeconds,
        }),
      ).not.toThrow();
    }
  });
});

describe('token size limit (8192 bytes by default), independent of the broker', () => {
  /** A validly signed token of exactly `bytes` bytes (ASCII, so bytes = characters). */
  async function tokenOf(bytes: number): Promise<string> {
    const base = await sign({ pad: '' });
    // Each padding character adds 4/3 base64url characters; search for the exact size.
    for (let pad = Math.max(0, Math.floor(((bytes - base.length) * 3) / 4) - 4); ; pad++) {
      const token = await sign({ pad: 'p'.repeat(pad) });
      if (token.length === bytes) return token;
      if (token.length > bytes) {
        // Base64 steps by up to 2: pad the header instead for the odd sizes.
        for (let h = 0; h < 8; h++) {
          const t = await sign({ pad: 'p'.repeat(pad - 3) }, { x: 'h'.repeat(h) });
          if (t.length === bytes) return t;
        }
        throw new Error(`could not build a ${bytes}-byte token`);
      }
    }
  }

  it('8192 bytes is accepted; 8193 bytes is 401 token_too_large with the limit in the message', async () => {
    const atLimit = await tokenOf(8192);
    expect(new TextEncoder().encode(atLimit).length).toBe(8192);
    expect(await outcome(verifierAt(T)(atLimit))).toBe('accepted');
    const over = await tokenOf(8193);
    const err = await verifierAt(T)(over).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: 'token_too_large', message: 'the token is larger than 8192 bytes' });
  });

  it('counts bytes, not characters: 3000 three-byte characters (9000 bytes) are too large', async () => {
    const token = 'é中'.repeat(1500); // 1500 × (2 + 3) = 7500 bytes... plus more below
    const big = token + '中'.repeat(500); // + 1500 = 9000 bytes, 3500 characters
    expect(big.length).toBeLessThan(8192);
    expect(await outcome(verifierAt(T)(big))).toBe('token_too_large');
  });

  it('maxTokenBytes is configurable within 256 to 65536, and a token over a custom limit is refused before parsing', async () => {
    const v = verifierAt(T, { maxTokenBytes: 256 });
    expect(await outcome(v('x'.repeat(257)))).toBe('token_too_large');
    expect(await outcome(v('x'.repeat(256)))).toBe('malformed_token');
    for (const maxTokenBytes of [255, 65537, 1000.5]) {
      expect(() => verifierAt(T, { maxTokenBytes })).toThrow(
        new RangeError('options.maxTokenBytes must be an integer from 256 to 65536'),
      );
    }
    for (const maxTokenBytes of [256, 65536]) expect(() => verifierAt(T, { maxTokenBytes })).not.toThrow();
  });
});

describe('algorithms', () => {
  it('the default allow-list is exactly the asymmetric algorithms: no HS*, no none', () => {
    expect([...DEFAULT_ALGORITHMS]).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
    ]);
    expect(Object.isFrozen(DEFAULT_ALGORITHMS)).toBe(true);
  });

  it('HS256 keyed with the issuer’s PEM (algorithm confusion) is refused as algorithm_not_allowed', async () => {
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, publicKey: pem, algorithms: ['ES256'] }],
      now: () => new Date(T * 1000),
    });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: T + 300 })}`;
    const token = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    expect(await outcome(verify(token))).toBe('algorithm_not_allowed');
    expect(await outcome(verify(await sign({})))).toBe('accepted');
  });

  it('an issuer limited to RS256 refuses an ES256 token as algorithm_not_allowed', async () => {
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [jwk] }, algorithms: ['RS256'] }],
      now: () => new Date(T * 1000),
    });
    expect(await outcome(verify(await sign({})))).toBe('algorithm_not_allowed');
  });

  it.each([['none'], ['None'], ['NONE'], [undefined], [7], [null]])(
    'alg %j (unsigned, or no algorithm named) is refused before any key lookup',
    async (alg) => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${b64({ typ: 'JWT', alg })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: T + 300 })}.`;
      const err = await verifierAt(T)(token).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect(err).toMatchObject({ code: 'algorithm_not_allowed', message: 'unsigned tokens are not accepted' });
    },
  );
});

describe('claims', () => {
  it.each([
    [{ sub: undefined }, 'invalid_sub'],
    [{ sub: 42 }, 'invalid_sub'],
    [{ exp: undefined }, 'invalid_exp'],
    [{ aud: 'other' }, 'invalid_aud'],
  ])('%j → %s', async (claims, code) => {
    expect(await outcome(verifierAt(T)(await sign(claims)))).toBe(code);
  });

  it('an unknown issuer is invalid_iss and a missing token is missing_token', async () => {
    expect(await outcome(verifierAt(T)(await sign({ iss: 'https://other/' })))).toBe('invalid_iss');
    expect(await outcome(verifierAt(T)(''))).toBe('missing_token');
  });

  it('an audience array accepts any listed audience', async () => {
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: ['a1', AUDIENCE], jwks: { keys: [jwk] } }],
      now: () => new Date(T * 1000),
    });
    const claims = (await verify(await sign({}))) as Record<string, unknown>;
    expect(claims.sub).toBe('alice');
  });

  it('unreachable JWKS is 503 jwks_unavailable, never a 401', async () => {
    const verify = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:1/jwks.json' }],
      now: () => new Date(T * 1000),
    });
    const err = await verify(await sign({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyholeError);
    expect(err).not.toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 503, code: 'jwks_unavailable' });
  });
});
