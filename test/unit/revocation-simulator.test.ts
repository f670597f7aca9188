// SECURITY.md, revocation: a role-wide Deny on aws:TokenIssueTime ends every session issued before
// a cutoff. On the AWS-faithful simulator, without the local stack (moved here from
// test/security/lifetime-and-size.test.ts, which keeps the checks that need RGW).
import { describe, expect, it } from 'vitest';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { decide, objectArn, rolePolicy } from '../property/oracle.js';

const bucket = 'uploads';

describe('revocation with a role-wide Deny on aws:TokenIssueTime (simulator)', () => {
  it('denies every session issued before the cutoff, even on its own prefix; later sessions work', async () => {
    const cutoff = '2026-11-22T12:00:00Z';
    const role = {
      Version: '2012-10-17',
      Statement: [
        ...(rolePolicy(bucket) as { Statement: object[] }).Statement,
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff } } },
      ],
    };
    const policy = buildSessionPolicy(bucket, [{ prefix: 'users/alice/', access: ['read', 'write'] }]);
    const at = (issued: string) =>
      decide({
        bucket,
        sessionPolicy: policy,
        rolePolicy: role,
        action: 's3:PutObject',
        resource: objectArn(bucket, 'users/alice/x'),
        context: { 'aws:TokenIssueTime': issued },
      });
    expect(await at('2026-11-22T11:59:59Z')).toBe('ExplicitlyDenied');
    expect(await at('2026-11-22T12:00:01Z')).toBe('Allowed');
  });
});
