// Issue 10, points 2, 3 and 6 on the real RGW: credentials bound to the caller's address and to
// the token's expiry, proxy trust that a client cannot spoof, dev login in its own namespace, and
// the two keys RGW does not evaluate (presigning, tags), pinned as deviations (SECURITY.md).
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import type { GrantRule } from '../../server/index.js';
import { devPrefix, freshSubject, s3WithIssued, startBroker, type TestBroker } from '../helpers/broker.js';
import { testIssuer } from '../helpers/jwt.js';
import { s3Outcome } from '../helpers/s3.js';
import { stack } from '../helpers/stack.js';

const bucket = stack().bucket;
const grant = (session: NonNullable<GrantRule['session']>, extra: Partial<GrantRule> = {}): GrantRule[] => [
  { bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }], session, ...extra },
];

async function credentialsVia(broker: TestBroker, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${broker.url}/v1/credentials`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: res.status, body: (await res.json()) as any };
}

const put = (body: any, name = `f-${randomUUID()}.txt`) =>
  s3Outcome(s3WithIssued(body).send(new PutObjectCommand({ Bucket: bucket, Key: `${body.prefix}${name}`, Body: 'x' })));

describe('aws:SourceIp binding (RGW evaluates it)', () => {
  it('credentials work from the address the broker saw, and from nowhere else', async () => {
    // One trusted proxy hop: the broker takes the right-most X-Forwarded-For entry, which a real
    // proxy appends. Here the test plays the proxy and chooses what the broker "saw".
    const broker = await startBroker({ grants: grant({ bindSourceIp: true }), trustProxy: 1 });
    try {
      const sub = freshSubject('bound');
      const token = await broker.token(sub);
      const local = await credentialsVia(broker, token, { 'x-forwarded-for': '127.0.0.1' });
      const remote = await credentialsVia(broker, token, { 'x-forwarded-for': '198.51.100.23' });
      expect([local.status, remote.status]).toEqual([200, 200]);
      expect(local.body.credentials.accessKeyId).not.toBe(remote.body.credentials.accessKeyId);
      expect(await put(local.body, 'mine.txt')).toBe('OK');
      // The requests below come from 127.0.0.1, not from the address these credentials are bound to.
      expect(await put(remote.body)).toBe('403 AccessDenied');
      expect(
        await s3Outcome(
          s3WithIssued(remote.body).send(
            new GetObjectCommand({ Bucket: bucket, Key: `${remote.body.prefix}mine.txt` }),
          ),
        ),
      ).toBe('403 AccessDenied');
      const audit = broker.logs.filter((l) => l.event === 'credentials.issued').map((l) => [l.ip, l.sourceIp]);
      expect(audit).toEqual([
        ['127.0.0.1', '127.0.0.1/32'],
        ['198.51.100.23', '198.51.100.23/32'],
      ]);
    } finally {
      await broker.close();
    }
  });

  it('a client-written X-Forwarded-For entry cannot choose the address: the limit and the audit see the real one', async () => {
    const broker = await startBroker({
      trustProxy: 1,
      rateLimit: { perSubject: false, perAddress: { limit: 3, windowSeconds: 60 } },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        // What a client sends through one proxy: its own spoofed entry, then the proxy's real one.
        const res = await credentialsVia(broker, 'garbage', { 'x-forwarded-for': `203.0.113.${i}, 192.0.2.77` });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
      const ips = broker.logs.filter((l) => l.event === 'credentials.refused').map((l) => l.ip);
      expect(ips).toEqual(Array(8).fill('192.0.2.77'));
    } finally {
      await broker.close();
    }
  });
});

describe('credentials never outlive the caller’s token (aws:CurrentTime, RGW evaluates it)', () => {
  it('report the token’s expiry, work before it and are refused after it', async () => {
    const broker = await startBroker();
    try {
      const token = await broker.token(freshSubject('short'), { ttlSeconds: 4 });
      const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
      const res = await credentialsVia(broker, token);
      expect(res.status).toBe(200);
      expect(Date.parse(res.body.credentials.expiration)).toBe(exp * 1000);
      expect(await put(res.body, 'before.txt')).toBe('OK');
      // Wait for the condition (the clock passing exp), polling, with a deadline.
      let outcome = 'OK';
      const deadline = Date.now() + 30_000;
      while (outcome === 'OK' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        // RGW checks the condition when the request arrives, never before it was sent: a write
        // sent a second past exp that still succeeds means the bound is not enforced.
        const sentAt = Date.now();
        outcome = await put(res.body, 'after.txt');
        if (outcome === 'OK') expect(sentAt).toBeLessThan(exp * 1000 + 1000);
      }
      expect(outcome).toBe('403 AccessDenied');
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 1000);
    } finally {
      await broker.close();
    }
  });

  it('with expireWithToken: false, credentials keep their STS lifetime', async () => {
    const broker = await startBroker({ grants: grant({ expireWithToken: false }) });
    try {
      const res = await credentialsVia(broker, await broker.token(freshSubject('long'), { ttlSeconds: 60 }));
      expect(Date.parse(res.body.credentials.expiration) - Date.now()).toBeGreaterThan(800_000);
      expect(broker.logs.find((l) => l.event === 'credentials.issued')!.expiration).toBe(
        res.body.credentials.expiration,
      );
    } finally {
      await broker.close();
    }
  });

  it('a token valid for ten years is refused before STS (401 token_lifetime_too_long)', async () => {
    const idp = await testIssuer();
    const broker = await startBroker({
      issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      const res = await credentialsVia(
        broker,
        await idp.sign({ sub: freshSubject('decade'), exp: now + 10 * 365 * 86400 }),
      );
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('token_lifetime_too_long');
      expect(broker.vendor.upstreamCalls()).toBe(0);
    } finally {
      await broker.close();
    }
  });
});

describe('dev login has its own namespace and no say in grant rules', () => {
  it('a dev "alice" gets users/dev-alice/, and claims she chose never match a rule’s when', async () => {
    const broker = await startBroker({
      grants: [
        {
          when: { groups: 'admins' },
          bucket,
          scopes: [{ prefix: 'admin/', access: ['read', 'write', 'list', 'delete'] }],
        },
        { bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read'] }] },
      ],
    });
    try {
      const sub = freshSubject('alice');
      const res = await credentialsVia(broker, await broker.token(sub, { claims: { groups: 'admins' } }));
      expect(res.status).toBe(200);
      expect(res.body.prefix).toBe(devPrefix(sub));
      expect(res.body.identityId).toBe(`dev-${sub}`);
      expect(res.body.access).toEqual(['read']);
    } finally {
      await broker.close();
    }
  });

  it('POST /v1/dev/token answers loopback peers, even when a trusted proxy says otherwise', async () => {
    const broker = await startBroker({ trustProxy: 1 });
    try {
      const res = await fetch(`${broker.url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' },
        body: JSON.stringify({ sub: 'x' }),
      });
      // The TCP peer decides, not the forwarded address: a local proxy cannot relay remote callers
      // into dev login. (A non-loopback peer is refused with 403 dev_login_remote; unit-tested.)
      expect(res.status).toBe(200);
    } finally {
      await broker.close();
    }
  });
});

describe('RGW deviations, pinned (AWS denies both; see test/unit/session-hardening.test.ts)', () => {
  it('RGW ignores s3:authType: a presigned GET made from vended credentials still works on RGW', async () => {
    const broker = await startBroker();
    try {
      const res = await credentialsVia(broker, await broker.token(freshSubject('presign')));
      const s3 = s3WithIssued(res.body);
      const Key = `${res.body.prefix}p.txt`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'presigned' }));
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key }), { expiresIn: 60 });
      const got = await fetch(url);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('presigned');
    } finally {
      await broker.close();
    }
  });

  it('RGW ignores s3:RequestObjectTagKeys: x-amz-tagging on PutObject is stored, while PutObjectTagging is denied', async () => {
    const broker = await startBroker();
    try {
      const res = await credentialsVia(broker, await broker.token(freshSubject('tags')));
      const s3 = s3WithIssued(res.body);
      const Key = `${res.body.prefix}t.txt`;
      expect(await s3Outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 't', Tagging: 'a=b' })))).toBe(
        'OK',
      );
      expect(
        await s3Outcome(
          s3.send(
            new PutObjectTaggingCommand({ Bucket: bucket, Key, Tagging: { TagSet: [{ Key: 'c', Value: 'd' }] } }),
          ),
        ),
      ).toBe('403 AccessDenied');
    } finally {
      await broker.close();
    }
  });
});
