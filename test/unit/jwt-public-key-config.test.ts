// Issue 17, point 8: KEYHOLE_JWT_PUBLIC_KEY decides the algorithms. An EC P-256 key with the default
// KEYHOLE_JWT_ALGORITHMS used to fail every request with 503 jwks_unavailable ("Invalid key type"):
// now the algorithms follow the key, and a key and algorithms that cannot work together fail at
// startup with one line naming both variables, never as an unavailable JWKS.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../server/auth/verify-token.js';
import { createBroker } from '../../server/broker.js';
import { parseConfig } from '../../server/config.js';
import { createLogger } from '../../server/index.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

const ISSUER = 'https://id.example.com/';
const base = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_BUCKET: 'uploads',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
  KEYHOLE_JWT_ISSUER: ISSUER,
  KEYHOLE_JWT_AUDIENCE: 'keyhole',
};

function pair(type: 'ec' | 'rsa' | 'ed25519' | 'x25519', namedCurve?: string) {
  const { publicKey, privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: namedCurve! })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync(type as 'ed25519');
  return { pem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKey };
}

function sign(privateKey: KeyObject, alg: string, sub = 'alice'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: 'keyhole', sub, iat: now, exp: now + 300 })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(privateKey as unknown as CryptoKey);
}

function issuersOf(env: Record<string, string>) {
  const result = parseConfig({ ...base, ...env });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.variable}: ${p.message}`).join('\n'));
  return result.config.broker.issuers!;
}

function problemsOf(env: Record<string, string>): string[] {
  const result = parseConfig({ ...base, ...env });
  return result.ok ? [] : result.problems.map((p) => `${p.variable}: ${p.message}`);
}

describe('KEYHOLE_JWT_PUBLIC_KEY: the algorithms follow the key', () => {
  it.each([
    ['EC P-256', pair('ec', 'prime256v1'), ['ES256'], 'ES256'],
    ['EC P-384', pair('ec', 'secp384r1'), ['ES384'], 'ES384'],
    ['EC P-521', pair('ec', 'secp521r1'), ['ES512'], 'ES512'],
    ['Ed25519', pair('ed25519'), ['EdDSA'], 'EdDSA'],
    ['RSA', pair('rsa'), ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], 'RS384'],
  ])('%s with the default algorithms: a token signed with it verifies', async (_name, key, algorithms, alg) => {
    const issuers = issuersOf({ KEYHOLE_JWT_PUBLIC_KEY: key.pem });
    expect(issuers).toHaveLength(1);
    expect(issuers[0]!.algorithms).toEqual(algorithms);
    const verify = createTokenVerifier({ issuers });
    await expect(verify(await sign(key.privateKey, alg))).resolves.toMatchObject({ sub: 'alice', iss: ISSUER });
  });

  it('an explicit list keeps the algorithms that fit the key', () => {
    const key = pair('ec', 'prime256v1');
    expect(
      issuersOf({ KEYHOLE_JWT_PUBLIC_KEY: key.pem, KEYHOLE_JWT_ALGORITHMS: 'RS256,ES256' })[0]!.algorithms,
    ).toEqual(['ES256']);
  });

  it('a token with another algorithm is a 401 algorithm_not_allowed, not a 503', async () => {
    const ec = pair('ec', 'prime256v1');
    const verify = createTokenVerifier({ issuers: issuersOf({ KEYHOLE_JWT_PUBLIC_KEY: ec.pem }) });
    const other = pair('ec', 'secp384r1');
    await expect(verify(await sign(other.privateKey, 'ES384'))).rejects.toMatchObject({
      code: 'algorithm_not_allowed',
      status: 401,
    });
  });

  it('an EC P-256 key with KEYHOLE_JWT_ALGORITHMS=RS256: one line naming both variables', () => {
    expect(
      problemsOf({ KEYHOLE_JWT_PUBLIC_KEY: pair('ec', 'prime256v1').pem, KEYHOLE_JWT_ALGORITHMS: 'RS256' }),
    ).toEqual([
      'KEYHOLE_JWT_ALGORITHMS: RS256 cannot verify tokens with KEYHOLE_JWT_PUBLIC_KEY, an EC P-256 key: ' +
        'set KEYHOLE_JWT_ALGORITHMS=ES256, or leave it unset to follow the key',
    ]);
    expect(
      problemsOf({ KEYHOLE_JWT_PUBLIC_KEY: pair('rsa').pem, KEYHOLE_JWT_ALGORITHMS: 'ES256,EdDSA', PORT: 'x' }),
    ).toEqual([
      'PORT: expected an integer from 0 to 65535 (got "x")',
      'KEYHOLE_JWT_ALGORITHMS: ES256 and EdDSA cannot verify tokens with KEYHOLE_JWT_PUBLIC_KEY, an RSA key: ' +
        'set KEYHOLE_JWT_ALGORITHMS=RS256,RS384,RS512,PS256,PS384,PS512, or leave it unset to follow the key',
    ]);
  });

  it('a key that does not parse, or cannot sign JWTs, names KEYHOLE_JWT_PUBLIC_KEY', () => {
    expect(
      problemsOf({ KEYHOLE_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' }),
    ).toEqual([
      'KEYHOLE_JWT_PUBLIC_KEY: expected a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----"); this one does not parse',
    ]);
    expect(problemsOf({ KEYHOLE_JWT_PUBLIC_KEY: pair('x25519').pem })).toEqual([
      'KEYHOLE_JWT_PUBLIC_KEY: a x25519 key cannot verify JWTs; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key',
    ]);
  });

  it('the broker from that configuration issues credentials for an ES256 token (was: 503 jwks_unavailable)', async () => {
    const key = pair('ec', 'prime256v1');
    const result = parseConfig({ ...base, KEYHOLE_JWT_PUBLIC_KEY: key.pem });
    if (!result.ok) throw new Error('config');
    const app = createBroker({
      ...result.config.broker,
      vendor: fakeVendor(),
      bucketCheck: 'accept-risk',
      rateLimit: false,
      logger: createLogger('silent'),
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/credentials`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await sign(key.privateKey, 'ES256')}` },
      });
      expect(res.status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('createBroker with a PEM string publicKey', () => {
  const options = (issuer: Record<string, unknown>) => ({
    grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read' as const] }] }],
    region: 'us-east-1',
    vendor: fakeVendor(),
    bucketCheck: 'accept-risk' as const,
    logger: createLogger('silent'),
    issuers: [{ issuer: ISSUER, audience: 'keyhole', ...issuer } as never],
  });

  it('an EC P-256 key with algorithms that cannot fit it fails at startup, naming both options', () => {
    const { pem } = pair('ec', 'prime256v1');
    expect(() => createBroker(options({ publicKey: pem, algorithms: ['RS256', 'PS256'] }))).toThrow(
      new TypeError(
        'options.issuers[0].algorithms (RS256 and PS256) cannot verify tokens with options.issuers[0].publicKey, an EC P-256 key: use ES256',
      ),
    );
    expect(() => createBroker(options({ publicKey: 'not a key' }))).toThrow(
      new TypeError('options.issuers[0].publicKey must be a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----")'),
    );
  });

  it('with the default algorithms an ES256 token is accepted (was: 503 jwks_unavailable "Invalid key type")', async () => {
    const key = pair('ec', 'prime256v1');
    const app = createBroker({ ...options({ publicKey: key.pem }), rateLimit: false });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/credentials`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await sign(key.privateKey, 'ES256')}` },
      });
      expect(res.status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
