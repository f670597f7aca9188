import { ForbiddenError } from '../errors.js';
import { OBJECT_ACTIONS, type Access } from './access.js';

/** AWS and RGW both reject an inline session policy longer than this (plaintext characters). */
export const MAX_SESSION_POLICY_LENGTH = 2048;

/** One prefix and what the session may do under it. */
export interface Scope {
  readonly prefix: string;
  readonly access: readonly Access[];
}

// Prefixes reaching here come from parsePrefixTemplate + encodeSegment, which never emit these.
// The check stays as a last line of defence: a wildcard or policy variable in a Resource or an
// s3:prefix value would widen the grant silently.
const UNSAFE_IN_POLICY = /[*?$:\u0000-\u001f\u007f-\uffff]/;

/**
 * Builds the inline session policy for AssumeRole: each scope's actions on `arn:aws:s3:::bucket/prefix*`,
 * and ListBucket limited by `StringLike s3:prefix` (never `IfExists`, which would allow a list
 * with no prefix). Throws ForbiddenError('grant_too_large') when the result exceeds 2048 chars.
 */
export function buildSessionPolicy(bucket: string, scopes: readonly Scope[]): string {
  const statements: object[] = [];
  const listPrefixes: string[] = [];
  scopes.forEach((scope, i) => {
    if (UNSAFE_IN_POLICY.test(scope.prefix) || !scope.prefix.endsWith('/')) {
      throw new Error(`refusing unsafe prefix in session policy: ${JSON.stringify(scope.prefix)}`);
    }
    const actions = scope.access.flatMap((a) => (a === 'list' ? [] : OBJECT_ACTIONS[a]));
    if (actions.length > 0) {
      statements.push({
        Sid: `Objects${i}`,
        Effect: 'Allow',
        Action: actions,
        Resource: `arn:aws:s3:::${bucket}/${scope.prefix}*`,
      });
    }
    if (scope.access.includes('list')) listPrefixes.push(`${scope.prefix}*`);
  });
  if (listPrefixes.length > 0) {
    statements.push({
      Sid: 'List',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringLike: { 's3:prefix': listPrefixes } },
    });
  }
  if (statements.length === 0) throw new Error('a session policy needs at least one statement');
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: statements });
  if (policy.length > MAX_SESSION_POLICY_LENGTH) {
    throw new ForbiddenError(
      'grant_too_large',
      `the session policy for this grant is ${policy.length} characters; STS accepts at most ${MAX_SESSION_POLICY_LENGTH}`,
    );
  }
  return policy;
}
