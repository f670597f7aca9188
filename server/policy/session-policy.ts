import { ForbiddenError } from '../errors.js';
import { OBJECT_ACTIONS, type Access } from './access.js';

/** AWS and RGW both reject an inline session policy longer than this (plaintext characters). */
export const MAX_SESSION_POLICY_LENGTH = 2048;

/** One prefix and what the session may do under it. */
export interface Scope {
  readonly prefix: string;
  readonly access: readonly Access[];
}

/**
 * Per-session restrictions added to the policy besides the scopes. Every field is optional; the
 * defaults are the safe choice.
 */
export interface SessionRestrictions {
  /**
   * Only requests from this address range may use the credentials (`aws:SourceIp`), e.g.
   * `"203.0.113.7/32"`. Default: any address.
   */
  readonly sourceCidr?: string;
  /**
   * The credentials stop working at this instant (`aws:CurrentTime`), e.g. the caller's token
   * expiry. Default: only the STS expiry applies.
   */
  readonly notAfter?: Date;
  /** Allow presigned URLs made from the credentials. Default false: denied where the backend evaluates `s3:authType`. */
  readonly allowPresignedUrls?: boolean;
  /** Allow object tags on writes (`x-amz-tagging`). Default false. */
  readonly allowTagging?: boolean;
}

// Prefixes reaching here come from parsePrefixTemplate + encodeSegment, which never emit these.
// The check stays as a last line of defence: a wildcard or policy variable in a Resource or an
// s3:prefix value would widen the grant silently.
const UNSAFE_IN_POLICY = /[*?$:\u0000-\u001f\u007f-\uffff]/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-f:]+\/\d{1,3})$/i;

// ACL headers on a write can make an object readable by anyone (public-read, AllUsers grants) or
// by another account. `s3:x-amz-acl` is present on RGW even without the header (as ""), so "?*"
// (one character or more) matches a real header only; the grant keys are absent unless sent.
// `Null` conditions are not used: RGW 16 evaluates them wrongly (see SECURITY.md). These denies
// cover PutObject; RGW does not expose the keys on CreateMultipartUpload or CopyObject, which the
// bucket's IgnorePublicAcls (local) or BucketOwnerEnforced (AWS) neutralise.
const ACL_DENIES: readonly object[] = [
  {
    Sid: 'NoAcl',
    Effect: 'Deny',
    Action: 's3:PutObject',
    Resource: '*',
    Condition: { StringLike: { 's3:x-amz-acl': '?*' } },
  },
  ...['read', 'read-acp', 'write-acp', 'full-control'].map((grant) => ({
    Sid: `NoGrant${grant.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`,
    Effect: 'Deny',
    Action: 's3:PutObject',
    Resource: '*',
    Condition: { StringLike: { [`s3:x-amz-grant-${grant}`]: '*' } },
  })),
];

// Tags on PutObject/CreateMultipartUpload/CopyObject ride on s3:PutObject and need no
// s3:PutObjectTagging. AWS exposes the tag keys as the multi-valued s3:RequestObjectTagKeys.
const TAG_DENY = {
  Sid: 'NoTags',
  Effect: 'Deny',
  Action: 's3:PutObject',
  Resource: '*',
  Condition: { 'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': '*' } },
};

// Anyone holding the credentials could otherwise mint URLs that outlive our audit trail.
const PRESIGN_DENY = {
  Sid: 'NoPresign',
  Effect: 'Deny',
  Action: 's3:*',
  Resource: '*',
  Condition: { StringEquals: { 's3:authType': 'REST-QUERY-STRING' } },
};

/** ISO 8601 without milliseconds: what IAM date conditions take, and shorter. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds the inline session policy for AssumeRole: each scope's actions on `arn:aws:s3:::bucket/prefix*`,
 * and ListBucket limited by `StringLike s3:prefix` (never `IfExists`, which would allow a list
 * with no prefix). Restrictions (`sourceCidr`, `notAfter`) are conditions on every Allow, so they
 * hold even where a backend skips session-policy Denies (RGW, for a CopyObject destination).
 * Writes with ACL or grant headers, and unless allowed, object tags and presigned URLs, are denied.
 * Throws ForbiddenError('grant_too_large') when the result exceeds 2048 chars.
 *
 * @example
 * ```ts
 * buildSessionPolicy('uploads', [{ prefix: 'users/alice/', access: ['read', 'write'] }], { sourceCidr: '203.0.113.7/32' })
 * ```
 */
export function buildSessionPolicy(
  bucket: string,
  scopes: readonly Scope[],
  restrictions: SessionRestrictions = {},
): string {
  const statements: object[] = [];
  const listPrefixes: string[] = [];
  const conditions: Record<string, Record<string, string>> = {};
  if (restrictions.sourceCidr !== undefined) {
    if (!CIDR.test(restrictions.sourceCidr)) {
      throw new TypeError(`restrictions.sourceCidr must be an address range such as "203.0.113.7/32"`);
    }
    conditions.IpAddress = { 'aws:SourceIp': restrictions.sourceCidr };
  }
  if (restrictions.notAfter !== undefined) {
    if (!(restrictions.notAfter instanceof Date) || Number.isNaN(restrictions.notAfter.getTime())) {
      throw new TypeError('restrictions.notAfter must be a valid Date');
    }
    conditions.DateLessThan = { 'aws:CurrentTime': isoSeconds(restrictions.notAfter) };
  }
  const restricted = Object.keys(conditions).length > 0;
  let writes = false;
  // Scopes with the same actions share one statement with a Resource list: the 2048-character
  // budget is spent on prefixes, not on repeating actions and conditions.
  const byActions = new Map<string, { actions: string[]; resources: string[] }>();
  for (const scope of scopes) {
    if (UNSAFE_IN_POLICY.test(scope.prefix) || !scope.prefix.endsWith('/')) {
      throw new Error(`refusing unsafe prefix in session policy: ${JSON.stringify(scope.prefix)}`);
    }
    if (scope.access.includes('write')) writes = true;
    const actions = scope.access.flatMap((a) => (a === 'list' ? [] : OBJECT_ACTIONS[a]));
    if (actions.length > 0) {
      const group = byActions.get(actions.join()) ?? { actions, resources: [] };
      group.resources.push(`arn:aws:s3:::${bucket}/${scope.prefix}*`);
      byActions.set(actions.join(), group);
    }
    if (scope.access.includes('list')) listPrefixes.push(`${scope.prefix}*`);
  }
  [...byActions.values()].forEach((group, i) => {
    statements.push({
      Sid: `Objects${i}`,
      Effect: 'Allow',
      Action: group.actions,
      Resource: group.resources.length === 1 ? group.resources[0] : group.resources,
      ...(restricted ? { Condition: conditions } : {}),
    });
  });
  if (listPrefixes.length > 0) {
    statements.push({
      Sid: 'List',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringLike: { 's3:prefix': listPrefixes }, ...conditions },
    });
  }
  if (statements.length === 0) throw new Error('a session policy needs at least one statement');
  if (writes) {
    statements.push(...ACL_DENIES);
    if (restrictions.allowTagging !== true) statements.push(TAG_DENY);
  }
  if (restrictions.allowPresignedUrls !== true) statements.push(PRESIGN_DENY);
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  if (policy.length > MAX_SESSION_POLICY_LENGTH) {
    throw new ForbiddenError(
      'grant_too_large',
      `the session policy for this grant is ${policy.length} characters; STS accepts at most ${MAX_SESSION_POLICY_LENGTH}`,
    );
  }
  return policy;
}
