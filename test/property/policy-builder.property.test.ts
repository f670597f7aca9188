// Issue 3, section 1: the policy builder is safe for any input. Pure properties (no simulator):
// every subject either becomes one safe segment that decodes back to itself, or is refused with a
// 403; prefixes never nest; session names stay legal; policies stay within STS's size and charset.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ForbiddenError, KeyholeError } from '../../server/errors.js';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { ALL_ACCESS, type Access } from '../../server/policy/access.js';
import { sessionNameFor } from '../../server/policy/session-name.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { encodeSegment } from '../../server/policy/subject.js';
import { ADVERSARIAL_CHARS, anySubject, neighbourOf, normalSubject } from './arbitraries.js';

const RUNS = 5000;
let cases = 0;
afterAll(() => console.log(`policy-builder properties: ${cases} generated cases`));

const SAFE_SEGMENT = /^(?:[A-Za-z0-9._@+=-]|%[0-9A-F]{2})+$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
// STS's allowed characters for an inline session policy: tab, LF, CR, U+0020–U+00FF.
const POLICY_CHARS = /^[\t\n\r\u0020-\u00ff]*$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

function refusalReason(value: string): string | undefined {
  if (value.trim() === '') return 'empty';
  if (value.length > 128) return 'long'; // the limit as a literal, not imported from the code under test
  if (CONTROL.test(value)) return 'control';
  if (!value.isWellFormed()) return 'surrogate';
  return undefined;
}

function tryEncode(value: unknown): { segment: string } | { error: unknown } {
  try {
    return { segment: encodeSegment(value, 'sub') };
  } catch (error) {
    return { error };
  }
}

const rules = (template: string) =>
  compileGrants([{ bucket: 'uploads', scopes: [{ prefix: template, access: [...ALL_ACCESS] }] }]);
const TEMPLATES = ['users/{sub}/', 'tenants/{org}/users/{sub}/', '{sub}/'] as const;

describe('subject encoding (any alphabet)', () => {
  it('either one safe segment that decodes back to the subject, or a 403 unsupported_subject for exactly the refusal classes', () => {
    fc.assert(
      fc.property(anySubject(300), (subject) => {
        cases++;
        const out = tryEncode(subject);
        const reason = refusalReason(subject);
        if ('error' in out) {
          expect(reason).not.toBe(undefined);
          expect(out.error).toBeInstanceOf(ForbiddenError);
          expect((out.error as KeyholeError).status).toBe(403);
          expect((out.error as KeyholeError).code).toBe('unsupported_subject');
          return;
        }
        expect(reason).toBe(undefined);
        expect(out.segment).toMatch(SAFE_SEGMENT);
        expect(out.segment).not.toMatch(/[*?$:/\\{}]/);
        expect(['.', '..']).not.toContain(out.segment);
        // Decoding is a function, so a round trip proves the encoding is injective.
        expect(decodeURIComponent(out.segment)).toBe(subject);
      }),
      { numRuns: RUNS },
    );
  });

  it('never refuses a subject from the normal alphabet', () => {
    fc.assert(
      fc.property(normalSubject, (subject) => {
        cases++;
        expect(decodeURIComponent(encodeSegment(subject, 'sub'))).toBe(subject);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses non-string claims with 403 unsupported_subject', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string())), (value) => {
        cases++;
        const out = tryEncode(value);
        expect('error' in out && (out.error as KeyholeError).code).toBe('unsupported_subject');
      }),
      { numRuns: 200 },
    );
  });
});

describe('rendered prefixes never nest', () => {
  it('two different callers never get prefixes where one starts with the other (incl. alice vs alice2, alice/x)', () => {
    const subjectPair = anySubject(150).chain((a) =>
      fc.tuple(fc.constant(a), fc.oneof(neighbourOf(a), anySubject(150)), fc.constantFrom(...TEMPLATES)),
    );
    fc.assert(
      fc.property(subjectPair, normalSubject, fc.boolean(), ([a, b, template], org, sameOrg) => {
        cases++;
        const compiled = rules(template);
        const render = (sub: string, o: string) => {
          try {
            return resolveGrant(compiled, { sub, org: o }, undefined).scopes[0]!.prefix;
          } catch (err) {
            expect((err as KeyholeError).code).toBe('unsupported_subject');
            return undefined;
          }
        };
        const pa = render(a, org);
        const pb = render(b, sameOrg ? org : org + '2');
        if (pa === undefined || pb === undefined) return;
        // Same values for every claim the template uses: the same caller, so the same prefix.
        if (a === b && (sameOrg || !template.includes('{org}'))) {
          expect(pa).toBe(pb);
          return;
        }
        expect(pa.startsWith(pb)).toBe(false);
        expect(pb.startsWith(pa)).toBe(false);
        expect(pa.endsWith('/')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('session names', () => {
  it('stay within [\\w+=,.@-]{2,64} for any string, and stay distinguishable', () => {
    fc.assert(
      fc.property(anySubject(1024), anySubject(1024), (a, b) => {
        cases++;
        const na = sessionNameFor(a);
        expect(na).toMatch(SESSION_NAME);
        expect(na.startsWith('kh-')).toBe(true);
        if (a !== b) expect(sessionNameFor(b)).not.toBe(na);
      }),
      { numRuns: RUNS },
    );
  });

  it('keep a readable subject verbatim so the audit log and CloudTrail can be read by a human', () => {
    expect(sessionNameFor('alice@example.com')).toMatch(/^kh-alice@example\.com-[\w-]{12}$/);
    expect(sessionNameFor('us-east-1:9f1c')).toMatch(/^kh-us-east-1_9f1c-[\w-]{12}$/);
    // Readable parts collide after replacement; the hash of the full subject keeps them apart.
    expect(sessionNameFor('a:b')).not.toBe(sessionNameFor('a/b'));
    expect(sessionNameFor('x'.repeat(200))).toHaveLength(64);
  });
});

describe('session policy size and characters', () => {
  it('is at most 2048 chars of STS’s allowed set, or a 403 grant_too_large; never anything else', () => {
    const access = fc.subarray([...ALL_ACCESS] as Access[], { minLength: 1 });
    fc.assert(
      fc.property(anySubject(128), access, fc.constantFrom(...TEMPLATES), (sub, want, template) => {
        cases++;
        let grant;
        try {
          grant = resolveGrant(rules(template), { sub, org: 'acme' }, want);
        } catch (err) {
          expect((err as KeyholeError).code).toBe('unsupported_subject');
          return;
        }
        let policy: string;
        try {
          policy = buildSessionPolicy(grant.bucket, grant.scopes);
        } catch (err) {
          expect(err).toBeInstanceOf(ForbiddenError);
          expect((err as KeyholeError).code).toBe('grant_too_large');
          expect((err as Error).message).toMatch(
            /^the session policy for this grant is (\d+) characters; STS accepts at most 2048$/,
          );
          expect(Number(/is (\d+) characters/.exec((err as Error).message)![1])).toBeGreaterThan(2048);
          return;
        }
        expect(policy.length).toBeLessThanOrEqual(2048);
        expect(policy).toMatch(POLICY_CHARS);
        const doc = JSON.parse(policy);
        expect(doc.Version).toBe('2012-10-17');
        // No wildcard other than the one trailing '*' Keyhole adds, no policy variable.
        for (const s of doc.Statement) {
          for (const r of [s.Resource, ...(s.Condition?.StringLike?.['s3:prefix'] ?? [])]) {
            expect(r.replace(/^arn:aws:s3:::/, '')).not.toMatch(/[?$:]|\*./);
          }
          expect(JSON.stringify(s.Condition ?? {})).not.toContain('IfExists');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the last line of defence refuses a prefix carrying a wildcard, variable, colon or non-ASCII', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', '/', '*', '?', '$', ':', 'é', '\u0000', '{'),
          minLength: 1,
          maxLength: 12,
        }),
        (raw) => {
          cases++;
          const prefix = raw + '/';
          const unsafe = /[*?$:\u0000-\u001f\u007f-\uffff]/.test(prefix);
          const run = () => buildSessionPolicy('uploads', [{ prefix, access: ['read'] }]);
          if (unsafe) expect(run).toThrow(`refusing unsafe prefix in session policy: ${JSON.stringify(prefix)}`);
          else expect(run()).toContain(`"arn:aws:s3:::uploads/${prefix}*"`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an adversarial subject of 128 CJK characters is refused before STS as grant_too_large (1152-char segment)', () => {
    const grant = resolveGrant(rules('users/{sub}/'), { sub: '中'.repeat(128) }, undefined);
    expect(grant.scopes[0]!.prefix).toHaveLength('users/'.length + 128 * 9 + 1);
    expect(() => buildSessionPolicy(grant.bucket, grant.scopes)).toThrow(
      'the session policy for this grant is 3635 characters; STS accepts at most 2048',
    );
  });

  it('adversarial subjects longer than 128 UTF-16 units are refused, never truncated', () => {
    // Generated long (minLength), never filtered: a raised limit fails here instead of looping.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ADVERSARIAL_CHARS), minLength: 129, maxLength: 400 }), (s) => {
        cases++;
        expect(() => encodeSegment(s, 'sub')).toThrow(ForbiddenError);
      }),
      { numRuns: 500 },
    );
  });
});
