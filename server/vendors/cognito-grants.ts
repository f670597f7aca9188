import type { GrantRule } from '../grants.js';
import { isPerCaller, parsePrefixTemplate } from '../policy/prefix-template.js';

/** Where a grant's prefix cannot be enforced by the Cognito enhanced flow. */
export interface UnconfinedPrefix {
  readonly rule: number;
  readonly scope: number;
  readonly prefix: string;
}

/**
 * The first per-caller prefix template without `{identityId}`, or undefined.
 *
 * In the enhanced flow the credentials are the identity pool role's, with no session policy: the
 * role policy is the grant. That policy can tell callers apart only by their Cognito identity id
 * (`${cognito-identity.amazonaws.com:sub}`, which Keyhole derives from the token's issuer and
 * subject). It cannot name a subject, an issuer or any other claim, so a prefix such as
 * `users/{sub}/` is either unreachable (the role does not grant `users/*`) or shared by everyone
 * (it does). A prefix with `{identityId}` in it is per caller whatever else it holds, and a prefix
 * with no placeholder is shared by design (`public/`), so both are fine.
 */
export function unconfinedPrefix(grants: readonly GrantRule[]): UnconfinedPrefix | undefined {
  for (const [rule, grant] of grants.entries()) {
    for (const [scope, { prefix }] of grant.scopes.entries()) {
      const template = parsePrefixTemplate(prefix);
      if (isPerCaller(template) && !template.segments.some((s) => 'claim' in s && s.claim === 'identityId')) {
        return { rule, scope, prefix };
      }
    }
  }
  return undefined;
}

/** The reason and the fix, shared by the option (TypeError) and environment (ConfigError) forms. */
export function unconfinedPrefixReason(basic: string): string {
  return (
    `is per caller but has no {identityId}: in the Cognito enhanced flow the identity pool's role policy is ` +
    `the grant, and it can tell callers apart only by identity id (\${cognito-identity.amazonaws.com:sub}); ` +
    `put {identityId} in the prefix, e.g. "private/{identityId}/", or use ${basic}`
  );
}
