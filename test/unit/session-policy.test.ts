// buildSessionPolicy on its own: exactly what it allows, the trailing-"/" rule, the unsafe-character
// check (a second guard, independent of the property test), and the 2048-character limit at its
// exact bound. Other vendors (Cognito) call it directly, so it must refuse bad prefixes itself.
// Deny statements (ACL, tagging, presigning) are the builder's own business; only Allows are pinned.
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../server/errors.js';
import { buildSessionPolicy, MAX_SESSION_POLICY_LENGTH } from '../../server/policy/session-policy.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/**
 * What a policy allows, independent of how statements are grouped or named: one entry per
 * "action resource", and for ListBucket one per allowed s3:prefix pattern. Conditions other than
 * the s3:prefix one must not be present (no restrictions are passed here).
 */
function allowed(policy: string): string[] {
  const doc = JSON.parse(policy) as { Version: string; Statement: Statement[] };
  expect(doc.Version).toBe('2012-10-17');
  const out: string[] = [];
  for (const s of doc.Statement) {
    expect(['Allow', 'Deny']).toContain(s.Effect);
    if (s.Effect !== 'Allow') continue;
    for (const action of list(s.Action)) {
      for (const resource of list(s.Resource)) {
        if (action === 's3:ListBucket') {
          expect(Object.keys(s.Condition ?? {})).toEqual(['StringLike']);
          for (const p of list(s.Condition!.StringLike!['s3:prefix'] as string | string[])) {
            out.push(`${action} ${resource} prefix=${p}`);
          }
        } else {
          expect(s.Condition).toBeUndefined();
          out.push(`${action} ${resource}`);
        }
      }
    }
  }
  return out.sort();
}

describe('buildSessionPolicy', () => {
  it('full access: exactly these actions on prefix*, and ListBucket only with s3:prefix = prefix*', () => {
    const policy = buildSessionPolicy('uploads', [
      { prefix: 'users/alice/', access: ['read', 'write', 'list', 'delete'] },
    ]);
    expect(allowed(policy)).toEqual(
      [
        's3:GetObject arn:aws:s3:::uploads/users/alice/*',
        's3:PutObject arn:aws:s3:::uploads/users/alice/*',
        's3:AbortMultipartUpload arn:aws:s3:::uploads/users/alice/*',
        's3:ListMultipartUploadParts arn:aws:s3:::uploads/users/alice/*',
        's3:DeleteObject arn:aws:s3:::uploads/users/alice/*',
        's3:ListBucket arn:aws:s3:::uploads prefix=users/alice/*',
      ].sort(),
    );
    expect(policy).not.toContain('IfExists');
  });

  it.each([
    [['read'], ['s3:GetObject']],
    [['write'], ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']],
    [['delete'], ['s3:DeleteObject']],
  ] as const)('%j allows exactly %j, and no ListBucket', (access, actions) => {
    expect(allowed(buildSessionPolicy('uploads', [{ prefix: 'p/', access }]))).toEqual(
      actions.map((a) => `${a} arn:aws:s3:::uploads/p/*`).sort(),
    );
  });

  it('list alone allows only ListBucket on the bucket, limited to the prefix', () => {
    expect(allowed(buildSessionPolicy('uploads', [{ prefix: 'p/', access: ['list'] }]))).toEqual([
      's3:ListBucket arn:aws:s3:::uploads prefix=p/*',
    ]);
  });

  it('several scopes: each prefix gets exactly its own access', () => {
    const policy = buildSessionPolicy('uploads', [
      { prefix: 'private/a/', access: ['read', 'list'] },
      { prefix: 'public/', access: ['list'] },
      { prefix: 'protected/a/', access: ['delete'] },
    ]);
    expect(allowed(policy)).toEqual(
      [
        's3:GetObject arn:aws:s3:::uploads/private/a/*',
        's3:DeleteObject arn:aws:s3:::uploads/protected/a/*',
        's3:ListBucket arn:aws:s3:::uploads prefix=private/a/*',
        's3:ListBucket arn:aws:s3:::uploads prefix=public/*',
      ].sort(),
    );
  });

  it('Deny statements never name a prefix-scoped Allow’s resource as allowed elsewhere', () => {
    const doc = JSON.parse(buildSessionPolicy('uploads', [{ prefix: 'p/', access: ['read', 'write'] }]));
    for (const s of doc.Statement as Statement[]) {
      if (s.Effect === 'Allow') for (const r of list(s.Resource)) expect(r).toMatch(/^arn:aws:s3:::uploads(\/p\/\*)?$/);
    }
  });

  it('refuses a scope list that grants nothing', () => {
    expect(() => buildSessionPolicy('uploads', [])).toThrow('a session policy needs at least one statement');
    expect(() => buildSessionPolicy('uploads', [{ prefix: 'p/', access: [] }])).toThrow(
      'a session policy needs at least one statement',
    );
  });

  describe('prefixes', () => {
    it.each(['users/alice', 'users/alice/x', 'a', ''])(
      'refuses %j: without a trailing "/" it would also match its neighbours (users/alice2/…)',
      (prefix) => {
        expect(() => buildSessionPolicy('uploads', [{ prefix, access: ['read'] }])).toThrow(
          new Error(`refusing unsafe prefix in session policy: ${JSON.stringify(prefix)}`),
        );
      },
    );

    it('refuses a bad prefix in any scope, not only the first', () => {
      expect(() =>
        buildSessionPolicy('uploads', [
          { prefix: 'ok/', access: ['read'] },
          { prefix: 'users/bob', access: ['read'] },
        ]),
      ).toThrow('refusing unsafe prefix in session policy: "users/bob"');
    });

    it.each([
      ['*', 'a wildcard'],
      ['?', 'a single-character wildcard'],
      ['$', 'a policy variable'],
      [':', 'a colon (RGW rejects it in a Resource key)'],
      ['\u0000', 'NUL'],
      ['\u001f', 'a C0 control'],
      ['\u007f', 'DEL'],
      ['é', 'non-ASCII (Latin-1)'],
      ['中', 'non-ASCII (CJK)'],
      ['\uffff', 'the last BMP code unit'],
      ['\ud83d\ude00', 'an astral character'],
    ])('refuses %j (%s) anywhere in a prefix', (ch) => {
      for (const prefix of [`${ch}/`, `users/${ch}/`, `users/a${ch}b/`, `users/alice/${ch}/`]) {
        expect(() => buildSessionPolicy('uploads', [{ prefix, access: ['read'] }])).toThrow(
          `refusing unsafe prefix in session policy: ${JSON.stringify(prefix)}`,
        );
      }
    });

    it.each(['users/alice/', 'a/', 'users/a%2A/', 'x.y_z-@+=/', 'a b/', '{sub}/', 'tab\u0020/', '~!#&()[]/'])(
      'accepts %j verbatim',
      (prefix) => {
        expect(allowed(buildSessionPolicy('uploads', [{ prefix, access: ['read', 'list'] }]))).toEqual([
          `s3:GetObject arn:aws:s3:::uploads/${prefix}*`,
          `s3:ListBucket arn:aws:s3:::uploads prefix=${prefix}*`,
        ]);
      },
    );
  });

  describe('size limit: 2048 characters', () => {
    // A read-only single-scope policy names its prefix once: its length is a fixed overhead plus
    // the prefix's length. The overhead is measured; the limit is a literal.
    const readOnly = (prefix: string) => buildSessionPolicy('b', [{ prefix, access: ['read'] }]);
    const overhead = () => readOnly('a/').length - 2;

    it('the constant is 2048', () => {
      expect(MAX_SESSION_POLICY_LENGTH).toBe(2048);
    });

    it('2048 characters exactly is accepted; 2049 is 403 grant_too_large naming both numbers', () => {
      const fits = 'x'.repeat(2048 - overhead() - 1) + '/';
      expect(readOnly(fits)).toHaveLength(2048);
      const over = 'x'.repeat(2048 - overhead()) + '/';
      let err: unknown;
      try {
        readOnly(over);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ForbiddenError);
      expect(err).toMatchObject({
        status: 403,
        code: 'grant_too_large',
        message: 'the session policy for this grant is 2049 characters; STS accepts at most 2048',
      });
    });
  });
});
