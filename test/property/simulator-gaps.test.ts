// The simulator's known gaps (../shared/notes/iam-and-users.md), pinned as plain unit tests. Each
// test shows the gap, then shows why Keyhole's proof does not depend on it. If a simulator upgrade
// closes a gap, the first assertion fails and the workaround can be revisited.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { ALL_ACCESS } from '../../server/policy/access.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { encodeSegment } from '../../server/policy/subject.js';
import { ACCOUNT, decide, objectArn, rolePolicy, SESSION_PRINCIPAL } from './oracle.js';

const BUCKET = 'uploads';
const allowGet = (resource: string, version = true) => ({
  ...(version ? { Version: '2012-10-17' } : {}),
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }],
});

async function raw(action: string, resource: string, sessionPolicy: object, context: Record<string, string> = {}) {
  return runSimulation(
    {
      request: {
        principal: SESSION_PRINCIPAL,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: context,
      },
      sessionPolicy,
      identityPolicies: [{ name: 'role', policy: rolePolicy(BUCKET) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
}

describe('iam-simulate known gaps (pinned)', () => {
  it('gap: drops ${cognito-identity.amazonaws.com:sub} — AWS would allow the matching identity, the simulator denies', async () => {
    const policy = allowGet(`arn:aws:s3:::${BUCKET}/private/\${cognito-identity.amazonaws.com:sub}/*`);
    const result = await raw('s3:GetObject', objectArn(BUCKET, 'private/us-east-1:abc/x'), policy, {
      'cognito-identity.amazonaws.com:sub': 'us-east-1:abc',
    });
    expect(result.resultType === 'single' && result.overallResult).toBe('ImplicitlyDenied');
    // Keyhole never puts a policy variable in a session policy: identities are rendered into
    // literal, encoded prefixes before STS is called, so this gap cannot hide a widening.
    const policyText = buildSessionPolicy(BUCKET, [
      { prefix: `private/${encodeSegment('us-east-1:abc', 'identityId')}/`, access: [...ALL_ACCESS] },
    ]);
    expect(policyText).not.toContain('${');
    expect(policyText).toContain('"arn:aws:s3:::uploads/private/us-east-1%3Aabc/*"');
  });

  it('gap: resolves ${aws:username} even without Version 2012-10-17 (AWS would treat it as literal text)', async () => {
    const policy = allowGet(`arn:aws:s3:::${BUCKET}/users/\${aws:username}/*`, false);
    const result = await raw('s3:GetObject', objectArn(BUCKET, 'users/alice/x'), policy, { 'aws:username': 'alice' });
    expect(result.resultType === 'single' && result.overallResult).toBe('Allowed');
    // Keyhole always sets Version 2012-10-17 and encodes '$', '{' and '}', so a subject of
    // "${aws:username}" becomes literal text under both rules.
    const text = buildSessionPolicy(BUCKET, [
      { prefix: `users/${encodeSegment('${aws:username}', 'sub')}/`, access: ['read'] },
    ]);
    expect(JSON.parse(text).Version).toBe('2012-10-17');
    expect(text).toContain('"arn:aws:s3:::uploads/users/%24%7Baws%3Ausername%7D/*"');
  });

  it('gap: treats "*" in a request key as a wildcard pattern, not a literal key', async () => {
    const policy = allowGet(`arn:aws:s3:::${BUCKET}/users/alice/*`);
    const result = await raw('s3:GetObject', objectArn(BUCKET, 'users/*'), policy);
    // On AWS a GetObject of the literal key "users/*" is outside users/alice/ and denied.
    expect(result.resultType).toBe('wildcard');
    expect(result.resultType !== 'error' && result.overallResult).toBe('Allowed');
    // The oracle used by the property tests refuses wildcard answers outright, and the property
    // keys never contain '*'. Literal '*' keys are tested on the real RGW (test/security/rgw-isolation.test.ts).
    await expect(
      decide({ bucket: BUCKET, sessionPolicy: policy, action: 's3:GetObject', resource: objectArn(BUCKET, 'users/*') }),
    ).rejects.toThrow('simulator evaluated arn:aws:s3:::uploads/users/* as a wildcard pattern, not one request');
  });

  it('gap: rejects s3:CreateMultipartUpload and s3:HeadObject as unknown actions (they are not IAM actions)', async () => {
    for (const action of ['s3:CreateMultipartUpload', 's3:HeadObject']) {
      const result = await raw(
        action,
        objectArn(BUCKET, 'users/alice/x'),
        allowGet(`arn:aws:s3:::${BUCKET}/users/alice/*`),
      );
      expect(result.resultType).toBe('error');
      expect(result.resultType === 'error' && result.errors.message).toBe('invalid.action');
    }
    // On AWS both are authorised as s3:PutObject and s3:GetObject respectively; the property tests
    // check those IAM actions, and RGW tests check the real API calls (multipart, HeadObject).
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: allowGet(`arn:aws:s3:::${BUCKET}/users/alice/*`),
        action: 's3:GetObject',
        resource: objectArn(BUCKET, 'users/alice/x'),
      }),
    ).toBe('Allowed');
  });

  it('not a gap: the escapes ${*} ${?} ${$} are literal, and an unescaped "*" in a Resource reaches another user', async () => {
    const other = objectArn(BUCKET, 'users/bob/x');
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: allowGet(`arn:aws:s3:::${BUCKET}/users/*/*`),
        action: 's3:GetObject',
        resource: other,
      }),
    ).toBe('Allowed');
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: allowGet(`arn:aws:s3:::${BUCKET}/users/?ob/*`),
        action: 's3:GetObject',
        resource: other,
      }),
    ).toBe('Allowed');
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: allowGet(`arn:aws:s3:::${BUCKET}/users/\${*}/*`),
        action: 's3:GetObject',
        resource: other,
      }),
    ).toBe('ImplicitlyDenied');
  });

  it('the colon handling is exact on AWS: "%3A" in the policy matches only the encoded key, never a literal ":" key', async () => {
    const prefix = `users/${encodeSegment('us-east-1:abc', 'sub')}/`;
    const policy = buildSessionPolicy(BUCKET, [{ prefix, access: ['read'] }]);
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: policy,
        action: 's3:GetObject',
        resource: objectArn(BUCKET, 'users/us-east-1%3Aabc/x'),
      }),
    ).toBe('Allowed');
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: policy,
        action: 's3:GetObject',
        resource: objectArn(BUCKET, 'users/us-east-1:abc/x'),
      }),
    ).toBe('ImplicitlyDenied');
    expect(
      await decide({
        bucket: BUCKET,
        sessionPolicy: policy,
        action: 's3:GetObject',
        resource: objectArn(BUCKET, 'users/us-east-1%3aabc/x'),
      }),
    ).toBe('ImplicitlyDenied');
  });
});
