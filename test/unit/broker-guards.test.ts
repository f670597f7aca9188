// Issue 10, points 3, 6 and 2 (token age), without RGW: dev login is refused next to real users
// or off loopback, `trust proxy: true` is refused, and tokens valid for years are refused.
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isLoopbackPeer } from '../../server/auth/dev-login.js';
import { createTokenVerifier } from '../../server/auth/verify-token.js';
import { checkTrustProxy } from '../../server/http/trust-proxy.js';
import { ConfigError, createBroker, loadConfig, type CredentialVendor } from '../../server/index.js';

const vendor: CredentialVendor = {
  kind: 'test',
  identityIdFor: async (sub) => sub,
  issue: async () => {
    throw new Error('not called');
  },
  ping: async () => {},
  upstreamCalls: () => 0,
};
const grants = [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read' as const] }] }];

const aws = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_BUCKET: 'uploads',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
};
const issuer = {
  KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
  KEYHOLE_JWT_AUDIENCE: 'keyhole',
  KEYHOLE_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return 'no error';
}

describe('dev login cannot reach real users', () => {
  it('is refused together with a real issuer, in config and in createBroker', () => {
    expect(configError({ ...aws, ...issuer, KEYHOLE_DEV_LOGIN: '1' })).toBe(
      'KEYHOLE_DEV_LOGIN: must not be enabled together with KEYHOLE_JWT_ISSUER: anyone could sign in as your real users; unset one of them',
    );
    expect(() =>
      createBroker({
        grants,
        vendor,
        region: 'us-east-1',
        devLogin: true,
        issuers: [{ issuer: 'https://id.example.com/', audience: 'a', jwks: { keys: [] } }],
      }),
    ).toThrow(
      new TypeError(
        'options.devLogin cannot be combined with options.issuers: dev login signs in anyone as anyone, ' +
          'so it would reach real users; run a separate local broker for development',
      ),
    );
  });

  it.each(['0.0.0.0', '::', '192.0.2.10', 'example.com'])(
    'is refused on a non-loopback host %s, whatever NODE_ENV says',
    (host) => {
      for (const NODE_ENV of [undefined, 'prod', 'Production', 'development']) {
        expect(
          configError({ ...aws, KEYHOLE_DEV_LOGIN: '1', KEYHOLE_HOST: host, ...(NODE_ENV ? { NODE_ENV } : {}) }),
        ).toBe(
          `KEYHOLE_DEV_LOGIN: needs a loopback KEYHOLE_HOST (127.0.0.1, ::1 or localhost), not "${host}": dev login must not be reachable from the network`,
        );
      }
    },
  );

  it.each(['127.0.0.1', '::1', 'localhost', '127.0.0.2'])('is allowed on loopback host %s', (host) => {
    expect(loadConfig({ ...aws, KEYHOLE_DEV_LOGIN: '1', KEYHOLE_HOST: host }).broker.devLogin).toBe(true);
  });

  it('recognises loopback peers only', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) expect(isLoopbackPeer(a)).toBe(true);
    for (const a of [undefined, '', '10.0.0.1', '::ffff:10.0.0.1', '::', '0.0.0.0', '128.0.0.1', 'fe80::1']) {
      expect(isLoopbackPeer(a)).toBe(false);
    }
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});

describe('proxy trust', () => {
  const hint =
    'must be false, the number of proxies in front of the broker (e.g. 1), or their addresses/CIDRs (e.g. "10.0.0.0/8", "loopback")';

  it('refuses true, which trusts the left-most X-Forwarded-For entry that the client writes', () => {
    expect(configError({ ...aws, ...issuer, KEYHOLE_TRUST_PROXY: 'true' })).toBe(
      `KEYHOLE_TRUST_PROXY: must not be true: that trusts the left-most X-Forwarded-For entry, which the client writes; ${hint}`,
    );
    expect(() =>
      createBroker({ grants, vendor, region: 'us-east-1', devLogin: true, trustProxy: true as never }),
    ).toThrow(
      new TypeError(
        `options.trustProxy must not be true: that trusts the left-most X-Forwarded-For entry, which the client writes; ${hint}`,
      ),
    );
  });

  it.each([
    ['1', 1],
    ['2', 2],
    ['false', false],
    ['10.0.0.0/8, loopback', ['10.0.0.0/8', 'loopback']],
    ['2001:db8::/32,192.0.2.1', ['2001:db8::/32', '192.0.2.1']],
  ])('accepts %j', (value, expected) => {
    expect(loadConfig({ ...aws, ...issuer, KEYHOLE_TRUST_PROXY: value }).broker.trustProxy).toEqual(expected);
  });

  it.each(['0', '11', 'yes', '10.0.0.0/33', 'example.com', ' , '])('refuses %j naming the variable', (value) => {
    expect(configError({ ...aws, ...issuer, KEYHOLE_TRUST_PROXY: value })).toBe(`KEYHOLE_TRUST_PROXY: ${hint}`);
  });

  it('checkTrustProxy takes arrays as the library option', () => {
    expect(checkTrustProxy(['loopback', '10.1.0.0/16'], 'x')).toEqual(['loopback', '10.1.0.0/16']);
    expect(() => checkTrustProxy(['*'], 'x')).toThrow(new TypeError(`x ${hint}`));
  });
});

describe('token age', () => {
  const NOW = 1_800_000_000;
  async function setup(maxTokenAgeSeconds?: number) {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const verify = createTokenVerifier({
      issuers: [{ issuer: 'https://i/', audience: 'a', publicKey }],
      now: () => new Date(NOW * 1000),
      ...(maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds } : {}),
    });
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ iss: 'https://i/', aud: 'a', sub: 'alice', ...claims })
        .setProtectedHeader({ alg: 'ES256' })
        .sign(privateKey);
    const outcome = (token: Promise<string>) =>
      token.then(verify).then(
        () => 'ok',
        (err: { code: string; message: string }) => `${err.code}: ${err.message}`,
      );
    return { sign, outcome };
  }

  it('refuses a token that expires ten years out (default limit 24 h, plus the clock tolerance)', async () => {
    const { sign, outcome } = await setup();
    expect(await outcome(sign({ exp: NOW + 10 * 365 * 86400 }))).toBe(
      'token_lifetime_too_long: the token expires more than 86400 s from now; ask the issuer for a shorter-lived token',
    );
    expect(await outcome(sign({ exp: NOW + 86400 + 30 }))).toBe('ok');
    expect(await outcome(sign({ exp: NOW + 86400 + 31 }))).toMatch(/^token_lifetime_too_long/);
  });

  it('refuses a token issued longer ago than the limit', async () => {
    const { sign, outcome } = await setup(3600);
    expect(await outcome(sign({ exp: NOW + 60, iat: NOW - 3600 - 31 }))).toBe(
      'token_too_old: the token was issued more than 3600 s ago; sign in again',
    );
    expect(await outcome(sign({ exp: NOW + 60, iat: NOW - 3600 - 30 }))).toBe('ok');
  });

  it('checks the option', () => {
    expect(() =>
      createTokenVerifier({ issuers: [{ issuer: 'i', audience: 'a', jwks: { keys: [] } }], maxTokenAgeSeconds: 59 }),
    ).toThrow(new RangeError('options.maxTokenAgeSeconds must be an integer from 60 to 31536000'));
    expect(configError({ ...aws, ...issuer, KEYHOLE_MAX_TOKEN_AGE_SECONDS: '10' })).toBe(
      'KEYHOLE_MAX_TOKEN_AGE_SECONDS: expected an integer from 60 to 31536000 (got "10")',
    );
  });
});
