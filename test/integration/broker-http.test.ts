// The broker's HTTP contract against the real RGW STS: response shape, headers, errors, audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialVendor, IssueRequest } from '../../server/index.js';
import { freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';
import { stack, stackVendor } from '../helpers/stack.js';

/** Wraps the real STS vendor, recording every request that reaches it. */
function recordingVendor(): CredentialVendor & { seen: IssueRequest[] } {
  const real = stackVendor();
  const seen: IssueRequest[] = [];
  return { ...real, seen, issue: (r) => (seen.push(r), real.issue(r)) };
}

describe('POST /v1/credentials', () => {
  let broker: TestBroker;
  let vendor: ReturnType<typeof recordingVendor>;
  let idp: TestIssuer;

  beforeAll(async () => {
    idp = await testIssuer();
    vendor = recordingVendor();
    broker = await startBroker({
      vendor,
      issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
      credentialCache: false,
      grants: [
        {
          when: { role: 'reader' },
          bucket: stack().bucket,
          scopes: [{ prefix: 'users/{sub}/', access: ['read', 'list'] }],
        },
        { bucket: stack().bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] },
      ],
    });
  });
  afterAll(() => broker.close());

  it('answers 200 with exactly the documented shape, no-store, and one audit line', async () => {
    const sub = freshSubject('alice');
    const before = vendor.seen.length;
    // A token valid for an hour: the credentials' own 900 s lifetime is the shorter bound.
    const res = await broker.credentials(await idp.sign({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(
      ['access', 'bucket', 'credentials', 'endpoint', 'forcePathStyle', 'identityId', 'prefix', 'region'].sort(),
    );
    expect(Object.keys(res.body.credentials).sort()).toEqual([
      'accessKeyId',
      'expiration',
      'secretAccessKey',
      'sessionToken',
    ]);
    expect(res.body).toMatchObject({
      bucket: stack().bucket,
      region: stack().region,
      prefix: `users/${sub}/`,
      identityId: sub,
      access: ['read', 'write', 'list', 'delete'],
      endpoint: stack().s3Endpoint,
      forcePathStyle: true,
    });
    expect(res.body.credentials.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const lifetime = Date.parse(res.body.credentials.expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(800_000);
    expect(lifetime).toBeLessThanOrEqual(905_000);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(vendor.seen.length).toBe(before + 1);
    expect(vendor.seen.at(-1)!.durationSeconds).toBe(900);
    const audit = broker.logs.filter((l) => l.event === 'credentials.issued' && l.sub === sub);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      prefix: `users/${sub}/`,
      access: ['read', 'write', 'list', 'delete'],
      cached: false,
    });
    expect(audit[0]!.sessionName).toMatch(/^kh-alice-[0-9a-f]{12}-[\w-]{12}$/);
    expect(audit[0]!.expiration).toBe(res.body.credentials.expiration);
    expect(broker.rawLogs()).not.toContain(res.body.credentials.secretAccessKey);
    expect(broker.rawLogs()).not.toContain(res.body.credentials.sessionToken);
  });

  it('narrows to a requested subset, in canonical order', async () => {
    const res = await broker.credentials(await idp.sign({ sub: freshSubject() }), { access: ['list', 'read'] });
    expect(res.status).toBe(200);
    expect(res.body.access).toEqual(['read', 'list']);
    const policy = JSON.parse(vendor.seen.at(-1)!.policy);
    expect(policy.Statement[0].Action).toEqual(['s3:GetObject']);
    expect(policy.Statement[1]).toMatchObject({
      Action: 's3:ListBucket',
      Condition: { StringLike: { 's3:prefix': [expect.stringMatching(/^users\/user-[0-9a-f]{12}\/\*$/)] } },
    });
  });

  it('applies the first matching grant rule (claims → access set)', async () => {
    const res = await broker.credentials(await idp.sign({ sub: freshSubject(), role: 'reader' }));
    expect(res.body.access).toEqual(['read', 'list']);
  });

  it.each([
    [
      'write beyond a read grant',
      { role: 'reader' },
      { access: ['write'] },
      'access_not_granted',
      'access not granted: write',
    ],
    [
      'delete beyond a read grant',
      { role: 'reader' },
      { access: ['read', 'delete'] },
      'access_not_granted',
      'access not granted: delete',
    ],
  ])('403 for %s, before STS', async (_l, claims, body, code, message) => {
    const before = vendor.upstreamCalls();
    const res = await broker.credentials(await idp.sign({ sub: freshSubject(), ...claims }), body);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code, message } });
    expect(vendor.upstreamCalls()).toBe(before);
  });

  it.each([
    ['no token', undefined, 'missing_token'],
    ['a non-bearer header', 'Basic abc', 'malformed_token'],
  ])('401 for %s', async (_l, header, code) => {
    const res = await fetch(`${broker.url}/v1/credentials`, {
      method: 'POST',
      headers: header ? { authorization: header } : {},
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe(code);
  });

  it('401 for forged, expired and wrong-audience tokens, without calling STS', async () => {
    const other = await testIssuer(idp.issuer, idp.audience); // same iss/aud, different key: a forgery
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string][] = [
      [await other.sign({ sub: 'alice' }), 'invalid_signature'],
      [await idp.sign({ sub: 'alice', exp: now - 3600, iat: now - 7200 }), 'token_expired'],
      [await idp.sign({ sub: 'alice', aud: 'someone-else' }), 'invalid_aud'],
      [await idp.sign({ sub: 'alice', iss: 'https://evil.test/' }), 'invalid_iss'],
    ];
    const before = vendor.upstreamCalls();
    for (const [token, code] of cases) {
      const res = await broker.credentials(token);
      expect([res.status, res.body.error.code]).toEqual([401, code]);
      expect(typeof res.body.error.message).toBe('string');
    }
    expect(vendor.upstreamCalls()).toBe(before);
    const refusals = broker.logs.filter((l) => l.event === 'credentials.refused' && l.status === 401);
    expect(refusals.length).toBeGreaterThanOrEqual(cases.length);
  });

  it.each([
    ['invalid JSON', '{"access":', 'malformed_body'],
    ['an unknown field', { access: ['read'], bucket: 'other' }, 'invalid_body'],
    ['an empty access list', { access: [] }, 'invalid_body'],
    ['access that is not a list', { access: 'read' }, 'invalid_body'],
    ['a body that is an array', ['read'], 'invalid_body'],
  ])('400 for %s', async (_l, body, code) => {
    const res = await broker.credentials(await idp.sign({ sub: freshSubject() }), body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(ts|js):\d+/);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await fetch(`${broker.url}/v1/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await idp.sign({ sub: freshSubject() })}`, 'content-type': 'text/plain' },
      body: 'access=read',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.code).toBe('unsupported_media_type');
  });

  it('404 JSON for unknown routes', async () => {
    const res = await fetch(`${broker.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nope' } });
  });
});

describe('session policy size', () => {
  it('a real response’s session policy is at most 2048 characters', async () => {
    const vendor = recordingVendor();
    const broker = await startBroker({ vendor });
    try {
      // The longest subject the broker accepts, in the worst encoding (4-byte UTF-8 → 12 chars each)
      // exceeds the limit; a long ASCII one does not.
      const sub = 'a'.repeat(128);
      const res = await broker.credentials(await broker.token(sub));
      expect(res.status).toBe(200);
      expect(vendor.seen).toHaveLength(1);
      expect(vendor.seen[0]!.policy.length).toBeLessThanOrEqual(2048);
      expect(vendor.seen[0]!.policy).toContain(`users/dev-${sub}/*`);
    } finally {
      await broker.close();
    }
  });

  it('an oversized grant is refused with 403 grant_too_large before STS is called', async () => {
    const vendor = recordingVendor();
    const s = stack();
    const broker = await startBroker({
      vendor,
      grants: [
        {
          bucket: s.bucket,
          scopes: Array.from({ length: 6 }, (_, i) => ({
            prefix: `tenant-${i}/{sub}/`,
            access: ['read', 'write', 'list', 'delete'] as const,
          })).map((x) => ({ ...x, access: [...x.access] })),
        },
      ],
    });
    try {
      const res = await broker.credentials(await broker.token('\u{1F600}'.repeat(30)));
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('grant_too_large');
      expect(res.body.error.message).toMatch(
        /^the session policy for this grant is \d{4} characters; STS accepts at most 2048$/,
      );
      expect(vendor.seen).toHaveLength(0);
      expect(vendor.upstreamCalls()).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

describe('STS failures', () => {
  it('502 carrying STS’s own error code (read from RGW’s raw body)', async () => {
    const vendor = stackVendor({ roleArn: 'arn:aws:iam:::role/does-not-exist' });
    const broker = await startBroker({ vendor });
    try {
      const res = await broker.credentials(await broker.token(freshSubject()));
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('sts_error');
      expect(res.body.error.message).toMatch(/^STS AssumeRole failed: [A-Z]\w+$/);
      expect(res.body.error.message).not.toContain('UnknownError');
    } finally {
      await broker.close();
    }
  });

  it('503 sts_unavailable when STS cannot be reached; /readyz says so too', async () => {
    const vendor = stackVendor({ endpoint: 'http://127.0.0.1:1' });
    const broker = await startBroker({ vendor });
    try {
      const res = await broker.credentials(await broker.token(freshSubject()));
      expect(res.status).toBe(503);
      expect(res.body.error).toEqual({ code: 'sts_unavailable', message: 'STS AssumeRole failed: unreachable' });
      const ready = await fetch(`${broker.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).error.code).toBe('sts_unavailable');
    } finally {
      await broker.close();
    }
  });
});

describe('health, readiness and dev login', () => {
  it('/healthz and /readyz answer 200 when STS works', async () => {
    const broker = await startBroker();
    try {
      expect(await (await fetch(`${broker.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${broker.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        vendor: 'sts',
        buckets: [
          {
            bucket: stack().bucket,
            aclsNeutralised: true,
            detail: `bucket "${stack().bucket}": Block Public Access IgnorePublicAcls is on (ACLs ignored)`,
          },
        ],
      });
    } finally {
      await broker.close();
    }
  });

  it('/v1/dev/token is a 404 unless dev login is enabled', async () => {
    const idp = await testIssuer();
    const broker = await startBroker({
      devLogin: false,
      issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
    });
    try {
      const res = await fetch(`${broker.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"sub":"alice"}',
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.code).toBe('not_found');
    } finally {
      await broker.close();
    }
  });
});

describe('{identityId} prefixes (Amplify layout) with the STS vendor', () => {
  it('the prefix segment is exactly the response identityId, encoded once, and usable on RGW', async () => {
    const s = stack();
    const broker = await startBroker({
      grants: [
        {
          bucket: s.bucket,
          scopes: [{ prefix: 'private/{identityId}/', access: ['read', 'write', 'list', 'delete'] }],
        },
      ],
    });
    try {
      const sub = `auth0|${freshSubject()}`;
      const res = await broker.credentials(await broker.token(sub));
      expect(res.status).toBe(200);
      expect(res.body.identityId).toBe(`dev-${sub.replace('|', '%7C')}`);
      expect(res.body.prefix).toBe(`private/${res.body.identityId}/`);
      const s3 = s3WithIssued(res.body);
      const { PutObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      await s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: `${res.body.prefix}a.txt`, Body: 'x' }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: res.body.prefix }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([`${res.body.prefix}a.txt`]);
    } finally {
      await broker.close();
    }
  });
});
