// POST /v1/credentials remembers the plan (grant, prefixes, session policy) made for a token the
// verifier remembers (frozen claims, handed out again for the same token), by requested access and
// client address. The answers must be exactly those of planning afresh; other tokens, other access
// and unfrozen claims are planned afresh.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TokenVerifier, VerifiedClaims } from '../../server/auth/verify-token.js';
import { compileGrants } from '../../server/grants.js';
import { errorHandler, notFound } from '../../server/http/errors.js';
import { jsonBody } from '../../server/http/request-body.js';
import { requestId } from '../../server/http/request-id.js';
import { createMetrics } from '../../server/metrics.js';
import { credentialsHandler } from '../../server/routes/credentials.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  while (servers.length > 0) servers.pop()!.close();
});

const EXP = Math.floor(Date.parse('2030-01-01T00:00:00Z') / 1000);

async function route(frozen: boolean) {
  const claimsOf = new Map<string, VerifiedClaims>();
  const verify: TokenVerifier = async (token) => {
    const claims = { iss: 'https://issuer.test/', sub: token.split('.')[0]!, exp: EXP, groups: [token] };
    if (!frozen) return claims;
    if (!claimsOf.has(token)) claimsOf.set(token, Object.freeze(claims));
    return claimsOf.get(token)!;
  };
  const vendor = fakeVendor();
  let lookups = 0;
  const identityIdFor = vendor.identityIdFor.bind(vendor);
  vendor.identityIdFor = (sub, issuer) => (lookups++, identityIdFor(sub, issuer));
  const app = express();
  app.use(requestId);
  app.post(
    '/v1/credentials',
    credentialsHandler({
      verify,
      rules: compileGrants([
        { when: { groups: 'admin.1' }, bucket: 'admins', scopes: [{ prefix: 'all/', access: ['read', 'list'] }] },
        { bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] },
      ]),
      vendor,
      region: 'eu-west-1',
      durationSeconds: 900,
      s3Endpoint: undefined,
      forcePathStyle: false,
      json: jsonBody(2048),
      cache: undefined,
      subjectLimiter: undefined,
      addressLimiter: undefined,
      metrics: createMetrics(vendor),
      logger: pino({ level: 'silent' }),
    }),
  );
  app.use(notFound, errorHandler(pino({ level: 'silent' })));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`;
  const post = async (token: string, access?: string[]) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(access ? { access } : {}),
    });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, bucket: body.bucket, prefix: body.prefix, access: body.access, error: body.error };
  };
  return { post, lookups: () => lookups, issued: vendor.seen };
}

describe('the plan of a remembered token', () => {
  it('is made once per token, access and address, and gives the same answers and policies', async () => {
    const { post, lookups, issued } = await route(true);
    const first = await post('alice.1');
    expect(await post('alice.1')).toEqual(first);
    expect(first).toEqual({
      status: 200,
      bucket: 'uploads',
      prefix: 'users/alice/',
      access: ['read', 'write', 'list', 'delete'],
      error: undefined,
    });
    expect(lookups()).toBe(1);
    expect(issued[1]!.policy).toBe(issued[0]!.policy);
    // Other access: planned afresh, with less in the policy.
    expect((await post('alice.1', ['read'])).access).toEqual(['read']);
    expect(lookups()).toBe(2);
    expect(issued[2]!.policy).not.toBe(issued[0]!.policy);
    // Another token (other claims, another grant): its own plan.
    expect(await post('admin.1')).toMatchObject({ status: 200, bucket: 'admins', prefix: 'all/' });
    expect(lookups()).toBe(3);
  });

  it('a refusal is never remembered: asked again, it is refused again', async () => {
    const { post, lookups } = await route(true);
    expect((await post('admin.1', ['write'])).status).toBe(403);
    expect((await post('admin.1', ['write'])).status).toBe(403);
    expect(lookups()).toBe(2);
  });

  it('claims that are not frozen (not from the verified-token cache) are planned every time', async () => {
    const { post, lookups } = await route(false);
    await post('alice.1');
    await post('alice.1');
    expect(lookups()).toBe(2);
  });
});
