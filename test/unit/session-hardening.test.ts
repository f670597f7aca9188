// Issue 10, points 1 and 2, on the AWS-faithful simulator (no RGW needed): the session policy's
// ACL, tagging and presign denies, and the source-address and token-expiry conditions, each
// evaluated as AWS would. RGW's own behaviour for the same statements is in test/security.
import { describe, expect, it } from 'vitest';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { sourceCidrFor } from '../../server/http/source-cidr.js';
import { buildSessionPolicy, type Scope } from '../../server/policy/session-policy.js';
import { sessionRestrictions } from '../../server/policy/session-restrictions.js';
import { ForbiddenError } from '../../server/errors.js';
import { bucketArn, decide, objectArn } from '../property/oracle.js';

const bucket = 'uploads';
const full: Scope[] = [{ prefix: 'users/alice/', access: ['read', 'write', 'list', 'delete'] }];
const key = objectArn(bucket, 'users/alice/photo.png');

async function put(policy: string, context: Record<string, string | string[]> = {}) {
  return decide({ bucket, sessionPolicy: policy, action: 's3:PutObject', resource: key, context });
}

describe('ACL headers on writes (AWS semantics)', () => {
  const policy = buildSessionPolicy(bucket, full);

  it('a plain write is allowed', async () => {
    expect(await put(policy)).toBe('Allowed');
  });

  it.each([
    ['s3:x-amz-acl', 'public-read'],
    ['s3:x-amz-acl', 'public-read-write'],
    ['s3:x-amz-acl', 'authenticated-read'],
    ['s3:x-amz-acl', 'bucket-owner-full-control'],
    ['s3:x-amz-acl', 'private'],
    ['s3:x-amz-grant-read', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
    ['s3:x-amz-grant-read-acp', 'id="other"'],
    ['s3:x-amz-grant-write-acp', 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'],
    ['s3:x-amz-grant-full-control', 'emailAddress="x@example.com"'],
  ])('%s: %s is explicitly denied', async (header, value) => {
    expect(await put(policy, { [header]: value })).toBe('ExplicitlyDenied');
  });

  it('a read-only grant carries no ACL or tag denies (they cost ~700 of the 2048 characters)', () => {
    const doc = JSON.parse(buildSessionPolicy(bucket, [{ prefix: 'users/alice/', access: ['read', 'list'] }]));
    expect(doc.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['Objects0', 'List', 'NoPresign']);
  });
});

describe('object tags', () => {
  it('tags on a write are denied by default, allowed with allowTagging', async () => {
    const tags = { 's3:RequestObjectTagKeys': ['project'] };
    expect(await put(buildSessionPolicy(bucket, full), tags)).toBe('ExplicitlyDenied');
    expect(await put(buildSessionPolicy(bucket, full, { allowTagging: true }), tags)).toBe('Allowed');
    expect(await put(buildSessionPolicy(bucket, full))).toBe('Allowed');
  });
});

describe('presigned URLs', () => {
  it.each(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'])(
    '%s through a presigned URL is denied by default, allowed with allowPresignedUrls',
    async (action) => {
      const presigned = { 's3:authType': 'REST-QUERY-STRING' };
      const header = { 's3:authType': 'REST-HEADER' };
      const run = (policy: string, context: Record<string, string>) =>
        decide({ bucket, sessionPolicy: policy, action, resource: key, context });
      expect(await run(buildSessionPolicy(bucket, full), presigned)).toBe('ExplicitlyDenied');
      expect(await run(buildSessionPolicy(bucket, full), header)).toBe('Allowed');
      expect(await run(buildSessionPolicy(bucket, full, { allowPresignedUrls: true }), presigned)).toBe('Allowed');
    },
  );
});

describe('source address and token expiry bind every Allow, including ListBucket', () => {
  const notAfter = new Date('2026-12-01T12:00:00.000Z');
  const policy = buildSessionPolicy(bucket, full, { sourceCidr: '203.0.113.0/24', notAfter });
  const requests = [
    { action: 's3:GetObject', resource: key },
    { action: 's3:PutObject', resource: key },
    { action: 's3:DeleteObject', resource: key },
    { action: 's3:ListBucket', resource: bucketArn(bucket), context: { 's3:prefix': 'users/alice/' } },
  ];

  it.each(requests)('$action: allowed from the bound network before expiry only', async (r) => {
    const run = (ip: string, time: string) =>
      decide({
        bucket,
        sessionPolicy: policy,
        action: r.action,
        resource: r.resource,
        context: { ...(r.context ?? {}), 'aws:SourceIp': ip, 'aws:CurrentTime': time },
      });
    expect(await run('203.0.113.7', '2026-12-01T11:59:59Z')).toBe('Allowed');
    expect(await run('198.51.100.7', '2026-12-01T11:59:59Z')).toBe('ImplicitlyDenied');
    expect(await run('203.0.113.7', '2026-12-01T12:00:01Z')).toBe('ImplicitlyDenied');
  });

  it('writes the conditions exactly, without milliseconds', () => {
    const doc = JSON.parse(policy);
    for (const s of doc.Statement.filter((x: { Effect: string }) => x.Effect === 'Allow')) {
      expect(s.Condition.IpAddress).toEqual({ 'aws:SourceIp': '203.0.113.0/24' });
      expect(s.Condition.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-12-01T12:00:00Z' });
    }
  });

  it('refuses malformed restrictions with a TypeError naming them', () => {
    expect(() => buildSessionPolicy(bucket, full, { sourceCidr: '203.0.113.7' })).toThrow(
      new TypeError('restrictions.sourceCidr must be an address range such as "203.0.113.7/32"'),
    );
    expect(() => buildSessionPolicy(bucket, full, { notAfter: new Date('nope') })).toThrow(
      new TypeError('restrictions.notAfter must be a valid Date'),
    );
  });
});

describe('grant session options', () => {
  const rules = (session: object | undefined) =>
    compileGrants([
      { bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write'] }], ...(session ? { session } : {}) },
    ]);

  it('defaults: no address binding, no presigning, no tags, expiry with the token', () => {
    const grant = resolveGrant(rules(undefined), { sub: 'alice' }, undefined);
    expect(grant.session).toEqual({
      bindSourceIp: false,
      allowPresignedUrls: false,
      allowTagging: false,
      expireWithToken: true,
    });
    expect(sessionRestrictions(grant.session, '203.0.113.7', 1_800_000_000)).toEqual({
      notAfter: new Date(1_800_000_000_000),
      allowPresignedUrls: false,
      allowTagging: false,
    });
  });

  it('binds to the exact address, or to its network with prefix lengths', () => {
    const exact = resolveGrant(rules({ bindSourceIp: true }), { sub: 'a' }, undefined).session;
    expect(sessionRestrictions(exact, '::ffff:203.0.113.7', undefined).sourceCidr).toBe('203.0.113.7/32');
    const net = resolveGrant(
      rules({ bindSourceIp: { ipv4PrefixLength: 24, ipv6PrefixLength: 48 }, expireWithToken: false }),
      { sub: 'a' },
      undefined,
    ).session;
    const r = sessionRestrictions(net, '2001:db8:abcd:12:1:2:3:4', 1_800_000_000);
    expect(r.sourceCidr).toBe('2001:db8:abcd:0:0:0:0:0/48');
    expect(r.notAfter).toBeUndefined();
  });

  it('refuses to bind to an address it cannot read: 403 unknown_client_address', () => {
    const exact = resolveGrant(rules({ bindSourceIp: true }), { sub: 'a' }, undefined).session;
    expect(() => sessionRestrictions(exact, undefined, undefined)).toThrow(ForbiddenError);
    expect(() => sessionRestrictions(exact, 'not-an-ip', undefined)).toThrow(
      'this grant binds credentials to the client address, and the broker could not read it',
    );
  });

  it.each([
    [
      { bindSourceIp: 'yes' },
      TypeError,
      'options.grants[0].session.bindSourceIp must be a boolean or { ipv4PrefixLength, ipv6PrefixLength }',
    ],
    [
      { bindSourceIp: { ipv4PrefixLength: 33 } },
      RangeError,
      'options.grants[0].session.bindSourceIp.ipv4PrefixLength must be an integer from 0 to 32',
    ],
    [
      { bindSourceIp: { ipv6PrefixLength: 129 } },
      RangeError,
      'options.grants[0].session.bindSourceIp.ipv6PrefixLength must be an integer from 0 to 128',
    ],
    [{ allowTagging: 'true' }, TypeError, 'options.grants[0].session.allowTagging must be a boolean'],
    [
      { presign: true },
      TypeError,
      'options.grants[0].session has unknown option "presign"; expected one of bindSourceIp, allowPresignedUrls, allowTagging, expireWithToken',
    ],
  ])('refuses %j', (session, type, message) => {
    expect(() => rules(session)).toThrow(new type(message));
  });
});

describe('sourceCidrFor', () => {
  it.each([
    ['127.0.0.1', 32, 128, '127.0.0.1/32'],
    ['10.1.2.3', 24, 64, '10.1.2.0/24'],
    ['10.1.2.3', 0, 64, '0.0.0.0/0'],
    ['::ffff:10.1.2.3', 16, 64, '10.1.0.0/16'],
    ['2001:db8:1:2:3:4:5:6', 32, 64, '2001:db8:1:2:0:0:0:0/64'],
    ['fe80::1%eth0', 32, 128, 'fe80:0:0:0:0:0:0:1/128'],
    ['2001:db8::ffff', 32, 120, '2001:db8:0:0:0:0:0:ff00/120'],
  ])('%s with /%i and /%i is %s', (ip, v4, v6, cidr) => {
    expect(sourceCidrFor(ip, { ipv4PrefixLength: v4, ipv6PrefixLength: v6 })).toBe(cidr);
  });

  it('is undefined for what is not an address', () => {
    expect(sourceCidrFor('x', { ipv4PrefixLength: 32, ipv6PrefixLength: 128 })).toBeUndefined();
    expect(sourceCidrFor(undefined, { ipv4PrefixLength: 32, ipv6PrefixLength: 128 })).toBeUndefined();
  });
});
