// The policy limits as literals, at and around each bound, with long inputs built directly: the
// fast, example-based counterpart of test/property/limits.property.test.ts, which the mutation
// groups (test/mutation/groups.mjs) run for every static mutant of server/policy.
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../server/errors.js';
import { sessionNameFor } from '../../server/policy/session-name.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { encodeSegment } from '../../server/policy/subject.js';

const refused = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('subject length: at most 128 UTF-16 units', () => {
  it.each([129, 130, 1000, 100_001])('%i characters: 403 unsupported_subject naming the length', (n) => {
    const err = refused(() => encodeSegment('s'.repeat(n), 'sub'));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({
      status: 403,
      code: 'unsupported_subject',
      message: `claim "sub" is ${n} characters; at most 128 are accepted`,
    });
  });

  it('128 characters are kept verbatim; 64 astral characters (128 units) are encoded; one more unit is refused', () => {
    expect(encodeSegment('a'.repeat(128), 'sub')).toBe('a'.repeat(128));
    expect(encodeSegment('😀'.repeat(64), 'org')).toBe('%F0%9F%98%80'.repeat(64));
    expect(refused(() => encodeSegment('😀'.repeat(64) + 'a', 'org'))).toMatchObject({
      message: 'claim "org" is 129 characters; at most 128 are accepted',
    });
  });
});

describe('session policy: at most 2048 characters', () => {
  // Read-only, one scope: the policy is a fixed text plus the prefix once.
  const policyFor = (prefix: string) => buildSessionPolicy('b', [{ prefix, access: ['read'] }]);
  const overhead = policyFor('a/').length - 2;

  it('the prefix that makes exactly 2048 characters is accepted; one character more is 403 grant_too_large', () => {
    const fits = 'p'.repeat(2048 - overhead - 1) + '/';
    expect(policyFor(fits)).toHaveLength(2048);
    const err = refused(() => policyFor('p' + fits));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({
      status: 403,
      code: 'grant_too_large',
      message: 'the session policy for this grant is 2049 characters; STS accepts at most 2048',
    });
  });

  it('a 5000-character prefix is refused, never truncated', () => {
    expect(refused(() => policyFor('p'.repeat(4999) + '/'))).toMatchObject({
      code: 'grant_too_large',
      message: `the session policy for this grant is ${overhead + 5000} characters; STS accepts at most 2048`,
    });
  });
});

describe('session names: kh-<readable, at most 48>-<12-character hash>, at most 64', () => {
  it('a 49-character or longer subject keeps its first 48 characters: exactly 64 in all', () => {
    for (const sub of ['a'.repeat(49), 'b'.repeat(48) + 'c', 'x'.repeat(1024)]) {
      const name = sessionNameFor(sub);
      expect(name).toHaveLength(64);
      expect(name.slice(0, 52)).toBe(`kh-${sub.slice(0, 48)}-`);
      expect(name.slice(52)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    }
  });

  it('48 characters fit whole; characters outside [\\w+=,.@-] become "_"', () => {
    expect(sessionNameFor('a'.repeat(48))).toMatch(new RegExp(`^kh-${'a'.repeat(48)}-[A-Za-z0-9_-]{12}$`));
    expect(sessionNameFor('al ice/+=,.@-é😀')).toMatch(/^kh-al_ice_\+=,\.@-__+-[A-Za-z0-9_-]{12}$/);
  });

  it('subjects sharing their first 48 characters get different names', () => {
    const head = 'h'.repeat(48);
    const names = new Set(['a', 'b', 'ab', 'a'.repeat(50)].map((tail) => sessionNameFor(head + tail)));
    expect(names.size).toBe(4);
  });
});
