// sessionRestrictions → buildSessionPolicy: a restriction that does not apply is absent (not
// present as undefined or an Invalid Date), so the policy built from it has no condition for it.
import { describe, expect, it } from 'vitest';
import type { ResolvedSessionOptions } from '../../server/grants.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { sessionRestrictions } from '../../server/policy/session-restrictions.js';

const session = (o: Partial<ResolvedSessionOptions>): ResolvedSessionOptions => ({
  bindSourceIp: false,
  allowPresignedUrls: false,
  allowTagging: false,
  expireWithToken: true,
  ...o,
});
const policyFor = (s: ResolvedSessionOptions, address: string | undefined, exp: number | undefined) =>
  JSON.parse(buildSessionPolicy('b', [{ prefix: 'u/a/', access: ['read'] }], sessionRestrictions(s, address, exp)));

describe('restrictions that do not apply are absent', () => {
  it('expireWithToken with no token exp: no notAfter, and a policy with no date condition', () => {
    expect(sessionRestrictions(session({}), '203.0.113.7', undefined)).toStrictEqual({
      allowPresignedUrls: false,
      allowTagging: false,
    });
    const policy = policyFor(session({}), '203.0.113.7', undefined);
    expect(JSON.stringify(policy)).not.toContain('aws:CurrentTime');
    // Positive control: with an exp, the date condition is there.
    expect(JSON.stringify(policyFor(session({}), '203.0.113.7', 1_900_000_000))).toContain(
      '"DateLessThan":{"aws:CurrentTime":"2030-03-17T17:46:40Z"}',
    );
  });

  it('no address binding: no sourceCidr key at all, and no IpAddress condition', () => {
    expect(sessionRestrictions(session({ expireWithToken: false }), '203.0.113.7', 1_900_000_000)).toStrictEqual({
      allowPresignedUrls: false,
      allowTagging: false,
    });
    expect(JSON.stringify(policyFor(session({ expireWithToken: false }), '203.0.113.7', 1))).not.toContain(
      'aws:SourceIp',
    );
  });
});
