// The dev login on its own: what a dev token carries, which claims a caller may not set, its
// input limits, and the loopback checks that keep it local. No broker, no RGW.
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createDevLogin,
  type DevLogin,
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_NAMESPACE,
  isLoopbackHost,
  isLoopbackPeer,
} from '../../server/auth/dev-login.js';
import { BadRequestError } from '../../server/errors.js';

// One dev login per test, made in beforeEach (which StrykerJS counts as part of the test), not at
// module load, so mutants in createDevLogin are run against the tests that cover them only.
let dev: DevLogin;
beforeEach(() => {
  dev = createDevLogin();
});
const refusal = (input: unknown) =>
  dev.mint(input).then(
    () => undefined,
    (e: unknown) => e as BadRequestError,
  );

describe('dev tokens', () => {
  it('are EdDSA JWTs from the dev issuer for the dev audience, valid one hour by default, verifiable with its key', async () => {
    const token = await dev.mint({ sub: 'alice' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'urn:keyhole:dev-login', aud: 'keyhole', sub: 'alice' });
    expect([DEV_ISSUER, DEV_AUDIENCE, DEV_NAMESPACE]).toEqual(['urn:keyhole:dev-login', 'keyhole', 'dev-']);
    expect(claims.exp! - claims.iat!).toBe(3600);
    const { payload } = await jwtVerify(token, dev.publicKey, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    expect(payload.sub).toBe('alice');
  });

  it('ttlSeconds sets the lifetime, from 1 to 86400', async () => {
    for (const ttlSeconds of [1, 86400]) {
      const c = decodeJwt(await dev.mint({ sub: 'a', ttlSeconds }));
      expect(c.exp! - c.iat!).toBe(ttlSeconds);
    }
  });

  it('extra claims are carried; the registered claims cannot be set through them', async () => {
    const claims = decodeJwt(
      await dev.mint({
        sub: 'alice',
        claims: {
          role: 'reader',
          groups: ['a', 'b'],
          n: 3,
          ok: true,
          iss: 'https://evil/',
          aud: 'other',
          exp: 9_999_999_999,
          nbf: 1,
          iat: 1,
          jti: 'fixed',
          sub: 'root',
        },
      }),
    );
    expect(claims).toMatchObject({ role: 'reader', groups: ['a', 'b'], n: 3, ok: true });
    expect(claims).toMatchObject({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 'alice' });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.iat).not.toBe(1);
    expect('nbf' in claims).toBe(false);
    expect('jti' in claims).toBe(false);
  });

  it.each([
    [{ sub: 'a'.repeat(1024) }],
    [{ sub: 'a', claims: { ['k'.repeat(64)]: 'v'.repeat(256) } }],
    [{ sub: 'a', claims: { list: Array.from({ length: 32 }, () => 'x'.repeat(256)) } }],
  ])('accepts values at the limits: %#', async (input) => {
    expect(typeof (await dev.mint(input))).toBe('string');
  });

  it.each([
    [undefined, /^sub: /],
    ['x', /^body: /],
    [{ sub: '' }, /^sub: /],
    [{ sub: 'a'.repeat(1025) }, /^sub: /],
    [{ sub: 'a', bogus: 1 }, /^body: Unrecognized key: "bogus"$/],
    [{ sub: 'a', ttlSeconds: 0 }, /^ttlSeconds: /],
    [{ sub: 'a', ttlSeconds: 86401 }, /^ttlSeconds: /],
    [{ sub: 'a', ttlSeconds: 1.5 }, /^ttlSeconds: /],
    [{ sub: 'a', claims: { ['k'.repeat(65)]: 'v' } }, /^claims\.k{65}: /],
    [{ sub: 'a', claims: { x: 'v'.repeat(257) } }, /^claims\.x: /],
    [{ sub: 'a', claims: { x: Array.from({ length: 33 }, () => 'v') } }, /^claims\.x: /],
    [{ sub: 'a', claims: { x: ['v'.repeat(257)] } }, /^claims\.x/],
    [{ sub: 'a', claims: { x: { nested: 1 } } }, /^claims\.x: /],
  ])('refuses %j as 400 invalid_body, naming the field', async (input, message) => {
    const err = await refusal(input);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_body' });
    expect(err!.message).toMatch(message);
  });
});

describe('loopback checks', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.10.1', true],
    ['127.0.0.10', true],
    ['127.0.0.255', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.9', true],
    ['::1', true],
    [undefined, false],
    ['', false],
    ['10.0.0.1', false],
    ['x127.0.0.1', false],
    ['127.0.0.1.evil.example', false],
    ['127.0.0', false],
    ['127.1000.0.1', false],
    ['127.0.1000.1', false],
    ['127.0.0.1000', false],
    ['1::ffff:127.0.0.1', false],
    // "::ffff:" is stripped at the start only: anywhere else, removing it could join what surrounds
    // it into a loopback address ("1" + "27.0.0.1").
    ['1::ffff:27.0.0.1', false],
    ['12::ffff:7.0.0.1', false],
    ['::2', false],
    ['[::1]', false],
  ])('isLoopbackPeer(%j) = %s', (address, expected) => {
    expect(isLoopbackPeer(address)).toBe(expected);
  });

  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['1::ffff:27.0.0.1', false],
  ])('isLoopbackHost(%j) = %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
