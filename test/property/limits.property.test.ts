// Limits stated as literals, never imported from the code under test, with long inputs generated
// directly (minLength), never by filtering: a raised limit fails here instead of looping.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullKey } from '../../client/keys.js';
import { InvalidKeyError } from '../../client/errors.js';
import { ForbiddenError } from '../../server/errors.js';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { RateLimiter } from '../../server/http/rate-limit.js';
import { sessionNameFor } from '../../server/policy/session-name.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { encodeSegment } from '../../server/policy/subject.js';
import { ADVERSARIAL_CHARS } from './arbitraries.js';

const SUBJECT_LIMIT = 128; // UTF-16 code units
const POLICY_LIMIT = 2048; // characters
const SESSION_NAME_MAX = 64;
const KEY_LIMIT = 1024; // UTF-8 bytes, prefix included

const safeChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+='.split(''));
const refused = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe(`subject length: at most ${SUBJECT_LIMIT}`, () => {
  it('any subject of 129 to 2000 safe characters is refused with 403 unsupported_subject, naming its length', () => {
    fc.assert(
      fc.property(fc.string({ unit: safeChar, minLength: 129, maxLength: 2000 }), (sub) => {
        const err = refused(() => encodeSegment(sub, 'sub'));
        expect(err).toBeInstanceOf(ForbiddenError);
        expect(err).toMatchObject({
          status: 403,
          code: 'unsupported_subject',
          message: `claim "sub" is ${sub.length} characters; at most 128 are accepted`,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('any subject of 129 to 400 adversarial characters is refused, never truncated', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ADVERSARIAL_CHARS), minLength: 129, maxLength: 400 }), (sub) => {
        // Astral characters count two units each, so a 129-character string is at least 129 units.
        expect(sub.length).toBeGreaterThan(SUBJECT_LIMIT);
        const err = refused(() => encodeSegment(sub, 'sub'));
        expect(err).toBeInstanceOf(ForbiddenError);
        expect((err as ForbiddenError).code).toBe('unsupported_subject');
      }),
      { numRuns: 300 },
    );
  });

  it('any subject of 1 to 128 safe characters is kept verbatim', () => {
    fc.assert(
      fc.property(fc.string({ unit: safeChar, minLength: 1, maxLength: 128 }), (sub) => {
        fc.pre(sub !== '.' && sub !== '..');
        expect(encodeSegment(sub, 'sub')).toBe(sub);
      }),
      { numRuns: 300 },
    );
  });

  it('exactly at the bound: 128 units accepted, 129 refused; astral characters count two', () => {
    expect(encodeSegment('a'.repeat(128), 'sub')).toBe('a'.repeat(128));
    expect(refused(() => encodeSegment('a'.repeat(129), 'sub'))).toBeInstanceOf(ForbiddenError);
    expect(encodeSegment('😀'.repeat(64), 'sub')).toBe('%F0%9F%98%80'.repeat(64));
    expect(refused(() => encodeSegment('😀'.repeat(64) + 'a', 'sub'))).toBeInstanceOf(ForbiddenError);
  });

  it('through a grant rule, a 129-unit claim is refused for every template placeholder', () => {
    const rules = compileGrants([{ bucket: 'uploads', scopes: [{ prefix: 't/{org}/u/{sub}/', access: ['read'] }] }]);
    fc.assert(
      fc.property(
        fc.string({ unit: safeChar, minLength: 129, maxLength: 300 }),
        fc.string({ unit: safeChar, minLength: 3, maxLength: 20 }),
        fc.boolean(),
        (long, short, longOrg) => {
          const claims = longOrg ? { sub: short, org: long } : { sub: long, org: short };
          const err = refused(() => resolveGrant(rules, claims, undefined));
          expect(err).toMatchObject({
            code: 'unsupported_subject',
            message: `claim "${longOrg ? 'org' : 'sub'}" is ${long.length} characters; at most 128 are accepted`,
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe(`session policy: at most ${POLICY_LIMIT} characters`, () => {
  // Read-only, one scope: the prefix appears once, so the length is a measured overhead (per bucket)
  // plus the prefix's length. The limit itself is the literal 2048.
  const overhead = (bucket: string) => buildSessionPolicy(bucket, [{ prefix: 'a/', access: ['read'] }]).length - 2;
  it('a policy is accepted exactly when it fits, and then has the predicted length', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: safeChar, minLength: 1, maxLength: 2100 }),
        fc.constantFrom('b', 'uploads', 'keyhole-local'),
        (segment, bucket) => {
          const prefix = segment + '/';
          const expected = overhead(bucket) + prefix.length;
          const run = () => buildSessionPolicy(bucket, [{ prefix, access: ['read'] }]);
          if (expected <= 2048) {
            expect(run()).toHaveLength(expected);
          } else {
            expect(refused(run)).toMatchObject({
              code: 'grant_too_large',
              message: `the session policy for this grant is ${expected} characters; STS accepts at most 2048`,
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('long prefixes (2000+ characters) are always refused, never truncated', () => {
    fc.assert(
      fc.property(fc.string({ unit: safeChar, minLength: 2000, maxLength: 5000 }), (segment) => {
        const err = refused(() => buildSessionPolicy('b', [{ prefix: segment + '/', access: ['read'] }]));
        expect(err).toBeInstanceOf(ForbiddenError);
        expect((err as ForbiddenError).code).toBe('grant_too_large');
      }),
      { numRuns: 100 },
    );
  });
});

describe(`session names: at most ${SESSION_NAME_MAX} characters`, () => {
  it('any subject of 49 or more characters gives kh-<first 48>-<12-char hash>, exactly 64 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: safeChar, minLength: 49, maxLength: 1024 }), (sub) => {
        const name = sessionNameFor(sub);
        expect(name).toHaveLength(64);
        expect(name.slice(0, 52)).toBe(`kh-${sub.slice(0, 48)}-`);
        expect(name.slice(52)).toMatch(/^[A-Za-z0-9_-]{12}$/);
      }),
      { numRuns: 300 },
    );
  });

  it('two subjects sharing their first 48 characters get different names', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: safeChar, minLength: 48, maxLength: 48 }),
        fc.string({ unit: safeChar, minLength: 1, maxLength: 50 }),
        fc.string({ unit: safeChar, minLength: 1, maxLength: 50 }),
        (head, a, b) => {
          fc.pre(a !== b);
          expect(sessionNameFor(head + a)).not.toBe(sessionNameFor(head + b));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe(`client keys: at most ${KEY_LIMIT} bytes with the prefix`, () => {
  const prefix = 'users/alice/'; // 12 bytes

  it('any key making the full key longer than 1024 bytes is refused', () => {
    fc.assert(
      fc.property(fc.string({ unit: safeChar, minLength: 1013, maxLength: 3000 }), (key) => {
        const err = refused(() => fullKey(prefix, key));
        expect(err).toBeInstanceOf(InvalidKeyError);
        expect((err as Error).message).toBe('key is too long: S3 keys are at most 1024 bytes including the prefix');
      }),
      { numRuns: 200 },
    );
  });

  it('bytes, not characters: 338 three-byte characters (1014 bytes + 12) are refused, 337 accepted', () => {
    expect(fullKey(prefix, '中'.repeat(337))).toBe(prefix + '中'.repeat(337));
    expect(refused(() => fullKey(prefix, '中'.repeat(338)))).toBeInstanceOf(InvalidKeyError);
    expect(fullKey(prefix, 'k'.repeat(1012))).toHaveLength(1024);
    expect(refused(() => fullKey(prefix, 'k'.repeat(1013)))).toBeInstanceOf(InvalidKeyError);
  });
});

describe('rate limiter: at most 100000 tracked keys', () => {
  it('the 100001st key evicts the oldest', () => {
    const limiter = new RateLimiter({ limit: 1, windowSeconds: 60 }, () => 0);
    for (let i = 0; i <= 100_000; i++) limiter.hit(`k${i}`, 'subject');
    expect(limiter.size).toBe(100_000);
    // k0 was evicted, so it has a fresh budget; the newest key was kept and is refused.
    expect(() => limiter.hit('k0', 'subject')).not.toThrow();
    expect(() => limiter.hit('k100000', 'subject')).toThrow('too many requests for this subject');
  });
});
