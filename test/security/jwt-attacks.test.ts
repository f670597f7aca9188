// Issue 3, section 4: JWT attack suite. Every forged, stale, confused or oversized token gets the
// documented 401 code (or 503 when the key set is unreachable), is audited, and never reaches STS:
// the vendor's upstream call counter must not move.
import { createHmac, createSign, KeyObject, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';

const ISSUER = 'https://idp.attack.test/';
const AUDIENCE = 'keyhole-attack';

interface Key {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}
async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** A JWKS endpoint on port 0 whose key set the test swaps while the broker runs. */
async function jwksServer(initial: JWK[]) {
  let keys = initial;
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    setKeys: (next: JWK[]) => void (keys = next),
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sign(key: Key, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: freshSubject('jwt'),
    iat: nowS(),
    exp: nowS() + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

async function post(broker: TestBroker, authorization: string | undefined) {
  const res = await fetch(`${broker.url}/v1/credentials`, {
    method: 'POST',
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe('JWT attack suite (broker with a JWKS issuer)', () => {
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let broker: TestBroker;
  let k1: Key;
  let k2: Key;
  let stranger: Key;
  let k1Pem: string;

  beforeAll(async () => {
    [k1, k2, stranger] = await Promise.all([makeKey('k1', 'RS256'), makeKey('k2', 'ES256'), makeKey('k1', 'RS256')]);
    k1Pem = await exportSPKI(k1.publicKey);
    jwks = await jwksServer([k1.jwk]);
    broker = await startBroker({
      devLogin: false,
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUrl: jwks.url, jwksCooldownSeconds: 0 }],
    });
  });
  afterAll(async () => {
    await broker.close();
    await jwks.close();
  });

  it('positive control: a valid token gets credentials with exactly one STS call', async () => {
    const before = broker.vendor.upstreamCalls();
    const res = await post(broker, `Bearer ${await sign(k1, {})}`);
    expect(res.status).toBe(200);
    expect(broker.vendor.upstreamCalls()).toBe(before + 1);
  });

  const attacks: [string, () => Promise<string | undefined>, number, string][] = [
    [
      'alg "none"',
      async () =>
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: nowS() + 300 })}.`,
      401,
      'algorithm_not_allowed',
    ],
    [
      'alg "NONE" with a signature part',
      async () =>
        `Bearer ${b64({ alg: 'NONE' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: nowS() + 300 })}.${b64('x')}`,
      401,
      'algorithm_not_allowed',
    ],
    [
      'HS256 signed with the issuer’s public key (algorithm confusion)',
      async () => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: nowS() + 300 })}`;
        return `Bearer ${input}.${createHmac('sha256', k1Pem).update(input).digest('base64url')}`;
      },
      401,
      'algorithm_not_allowed',
    ],
    [
      'HS256 keyed with the public JWK "n" (algorithm confusion, other encoding)',
      async () => {
        const input = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: nowS() + 300 })}`;
        return `Bearer ${input}.${createHmac('sha256', String(k1.jwk.n)).update(input).digest('base64url')}`;
      },
      401,
      'algorithm_not_allowed',
    ],
    ['wrong issuer', async () => `Bearer ${await sign(k1, { iss: 'https://evil.test/' })}`, 401, 'invalid_iss'],
    [
      'the dev-login issuer on a broker without dev login',
      async () => `Bearer ${await sign(k1, { iss: 'urn:keyhole:dev-login', aud: 'keyhole' })}`,
      401,
      'invalid_iss',
    ],
    ['wrong audience', async () => `Bearer ${await sign(k1, { aud: 'another-app' })}`, 401, 'invalid_aud'],
    ['no audience', async () => `Bearer ${await sign(k1, { aud: undefined })}`, 401, 'invalid_aud'],
    ['expired', async () => `Bearer ${await sign(k1, { exp: nowS() - 120 })}`, 401, 'token_expired'],
    ['nbf in the future', async () => `Bearer ${await sign(k1, { nbf: nowS() + 120 })}`, 401, 'token_not_yet_valid'],
    ['no exp', async () => `Bearer ${await sign(k1, { exp: undefined })}`, 401, 'invalid_exp'],
    ['no sub', async () => `Bearer ${await sign(k1, { sub: undefined })}`, 401, 'invalid_sub'],
    ['unknown kid', async () => `Bearer ${await sign({ ...k1, kid: 'nope' }, {})}`, 401, 'unknown_key'],
    [
      'known kid, signed by a stranger’s key',
      async () => `Bearer ${await sign(stranger, {})}`,
      401,
      'invalid_signature',
    ],
    [
      'payload swapped after signing (sub escalated)',
      async () => {
        const [h, , s] = (await sign(k1, { sub: 'mallory' })).split('.');
        return `Bearer ${h}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: nowS() + 300 })}.${s}`;
      },
      401,
      'invalid_signature',
    ],
    [
      'unknown critical header (signed by the real key)',
      async () => {
        const input = `${b64({ alg: 'RS256', kid: 'k1', crit: ['x-must'], 'x-must': true })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: nowS() + 300 })}`;
        const sig = createSign('RSA-SHA256').update(input).sign(KeyObject.from(k1.privateKey)).toString('base64url');
        return `Bearer ${input}.${sig}`;
      },
      401,
      'invalid_token',
    ],
    [
      'oversized token (validly signed, 8 KiB + 1)',
      async () => {
        const base = await sign(k1, { pad: '' });
        const token = await sign(k1, { pad: 'p'.repeat(8193 - base.length + 2) });
        expect(new TextEncoder().encode(token).length).toBeGreaterThan(8192);
        return `Bearer ${token}`;
      },
      401,
      'token_too_large',
    ],
    ['malformed: three garbage parts', async () => 'Bearer abc.def.ghi', 401, 'malformed_token'],
    [
      'malformed: header is not JSON',
      async () => `Bearer ${b64('{not json')}.${b64({ sub: 'x' })}.sig`,
      401,
      'malformed_token',
    ],
    [
      'malformed: two parts',
      async () => `Bearer ${b64({ alg: 'RS256' })}.${b64({ sub: 'x' })}`,
      401,
      'malformed_token',
    ],
    [
      'malformed: header is a JSON array',
      async () => `Bearer ${b64([1])}.${b64({ sub: 'x' })}.sig`,
      401,
      'malformed_token',
    ],
    ['not a Bearer header', async () => 'Basic YWxpY2U6cGFzcw==', 401, 'malformed_token'],
    ['Bearer with spaces inside', async () => 'Bearer a b c', 401, 'malformed_token'],
    ['no Authorization header', async () => undefined, 401, 'missing_token'],
  ];

  it.each(attacks)('%s: 401 with its documented code, audited, no STS call', async (_name, make, status, code) => {
    const authorization = await make();
    const before = broker.vendor.upstreamCalls();
    const refusedBefore = broker.logs.filter((l) => l.event === 'credentials.refused').length;
    const res = await post(broker, authorization);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    expect(broker.vendor.upstreamCalls()).toBe(before);
    const refused = broker.logs.filter((l) => l.event === 'credentials.refused').slice(refusedBefore);
    expect(refused.map((l) => [l.status, l.code, l.sub])).toEqual([[status, code, undefined]]);
    if (authorization) expect(broker.rawLogs()).not.toContain(authorization.slice(7, 60));
  });

  it('JWKS rotated while running: the new key works at once, the removed key stops working, no STS call for it', async () => {
    const fetchesBefore = jwks.fetches();
    jwks.setKeys([k2.jwk]);
    const stsBefore = broker.vendor.upstreamCalls();
    const fresh = await post(broker, `Bearer ${await sign(k2, {})}`);
    expect(fresh.status).toBe(200);
    expect(broker.vendor.upstreamCalls()).toBe(stsBefore + 1);
    expect(jwks.fetches()).toBeGreaterThan(fetchesBefore);
    const old = await post(broker, `Bearer ${await sign(k1, {})}`);
    expect({ status: old.status, code: old.body.error?.code }).toEqual({ status: 401, code: 'unknown_key' });
    expect(broker.vendor.upstreamCalls()).toBe(stsBefore + 1);
    jwks.setKeys([k1.jwk, k2.jwk]);
  });
});

describe('JWKS abuse and outage', () => {
  it('a flood of unknown kids refetches the JWKS at most once per cooldown', async () => {
    const key = await makeKey('real', 'RS256');
    const server = await jwksServer([key.jwk]);
    const broker = await startBroker({
      devLogin: false,
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUrl: server.url, jwksCooldownSeconds: 30 }],
    });
    try {
      expect((await post(broker, `Bearer ${await sign(key, {})}`)).status).toBe(200);
      const fetches = server.fetches();
      for (let i = 0; i < 20; i++) {
        const res = await post(broker, `Bearer ${await sign({ ...key, kid: randomUUID() }, {})}`);
        expect(res.body.error?.code).toBe('unknown_key');
      }
      expect(server.fetches() - fetches).toBeLessThanOrEqual(1);
    } finally {
      await broker.close();
      await server.close();
    }
  });

  it('503 jwks_unavailable when the key set cannot be fetched, still without calling STS', async () => {
    const server = await jwksServer([]);
    const url = server.url;
    await server.close();
    const key = await makeKey('k', 'RS256');
    const broker = await startBroker({
      devLogin: false,
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url }],
    });
    try {
      const res = await post(broker, `Bearer ${await sign(key, {})}`);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 503, code: 'jwks_unavailable' });
      expect(broker.vendor.upstreamCalls()).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

// The clock-skew bounds are tested on the verifier alone, without RGW: test/unit/jwt-verify.test.ts.
