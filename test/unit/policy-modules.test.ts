// server/policy, module by module: prefix templates, subject encoding messages, session names,
// issuer separation, and the session restrictions of buildSessionPolicy. Exact values, no RGW.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../server/errors.js';
import { checkIssuerSeparation } from '../../server/policy/issuer-separation.js';
import { isPerCaller, parsePrefixTemplate, renderPrefix } from '../../server/policy/prefix-template.js';
import { sessionNameFor } from '../../server/policy/session-name.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { sessionRestrictions } from '../../server/policy/session-restrictions.js';
import { encodeSegment } from '../../server/policy/subject.js';

describe('prefix templates', () => {
  it.each([
    ['/users/{sub}/', 'prefix template "/users/{sub}/" must not start with "/"'],
    ['users/{sub}', 'prefix template "users/{sub}" must end with "/"'],
    [
      'users//{sub}/',
      'prefix template "users//{sub}/" has an invalid segment "": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      'users/./{sub}/',
      'prefix template "users/./{sub}/" has an invalid segment ".": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      'users/../{sub}/',
      'prefix template "users/../{sub}/" has an invalid segment "..": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      'a*b/{sub}/',
      'prefix template "a*b/{sub}/" has an invalid segment "a*b": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      '*b/{sub}/',
      'prefix template "*b/{sub}/" has an invalid segment "*b": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      'users/{sub}x/',
      'prefix template "users/{sub}x/" has an invalid segment "{sub}x": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [
      'users/x{sub}/',
      'prefix template "users/x{sub}/" has an invalid segment "x{sub}": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    ['/', 'prefix template "/" must not start with "/"'],
  ])('%j is refused: %s', (source, message) => {
    expect(() => parsePrefixTemplate(source)).toThrow(new Error(message));
  });

  it('parses literals and whole-segment claims', () => {
    expect(parsePrefixTemplate('t/{org}/u.x@y+z=w-v_/{sub}/').segments).toEqual([
      { literal: 't' },
      { claim: 'org' },
      { literal: 'u.x@y+z=w-v_' },
      { claim: 'sub' },
    ]);
  });

  it('"." and ".." from a vendor are never used verbatim', () => {
    const t = parsePrefixTemplate('private/{identityId}/');
    expect(renderPrefix(t, {}, { identityId: '..' })).toBe('private/%2E%2E/');
    expect(renderPrefix(t, {}, { identityId: '.' })).toBe('private/%2E/');
    expect(renderPrefix(t, {}, { identityId: '...' })).toBe('private/.../');
  });

  it('isPerCaller: true when any segment is a claim', () => {
    expect(isPerCaller(parsePrefixTemplate('shared/team/'))).toBe(false);
    expect(isPerCaller(parsePrefixTemplate('users/{sub}/'))).toBe(true);
    expect(isPerCaller(parsePrefixTemplate('{sub}/'))).toBe(true);
  });
});

describe('subject encoding messages', () => {
  it.each([
    [42, 'claim "sub" must be a string'],
    ['  ', 'claim "sub" is empty'],
    ['a\u0007b', 'claim "sub" contains control characters'],
    ['a\ud800b', 'claim "sub" is not well-formed Unicode'],
  ])('%j → %s', (value, message) => {
    expect(() => encodeSegment(value, 'sub')).toThrow(new ForbiddenError('unsupported_subject', message));
    expect(() => encodeSegment(value, 'sub')).toThrow(message);
  });

  it('percent-encodes every byte with two upper-case hex digits', () => {
    expect(encodeSegment('a b/é\u00a0', 'sub')).toBe('a%20b%2F%C3%A9%C2%A0');
  });
});

describe('session names', () => {
  const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url').slice(0, 12);

  it('without an issuer, the hash is of the subject alone', () => {
    expect(sessionNameFor('alice')).toBe(`kh-alice-${hash('alice')}`);
    expect(sessionNameFor('alice', undefined)).toBe(sessionNameFor('alice'));
  });

  it('with an issuer, the hash covers issuer NUL subject, so one name at two issuers differs', () => {
    expect(sessionNameFor('alice', 'https://a/')).toBe(`kh-alice-${hash('https://a/\u0000alice')}`);
    expect(sessionNameFor('alice', 'https://a/')).not.toBe(sessionNameFor('alice', 'https://b/'));
    expect(sessionNameFor('alice', 'https://a/')).not.toBe(sessionNameFor('alice'));
  });
});

describe('issuer separation', () => {
  const t = (s: string) => parsePrefixTemplate(s);

  it('one issuer (or none): anything goes', () => {
    expect(() => checkIssuerSeparation(0, [t('users/{sub}/')])).not.toThrow();
    expect(() => checkIssuerSeparation(1, [t('users/{sub}/')])).not.toThrow();
  });

  it('two issuers: a per-caller template without {iss} is refused, naming it and the count', () => {
    expect(() => checkIssuerSeparation(2, [t('users/{iss}/{sub}/'), t('team/{org}/')])).toThrow(
      new TypeError(
        'options.issuers lists 2 issuers, so subjects from different issuers could share prefix "team/{org}/"; ' +
          'put {iss} in every per-caller prefix template, e.g. "users/{iss}/{sub}/"',
      ),
    );
  });

  it('two issuers: templates with {iss}, and shared literal prefixes, are fine', () => {
    expect(() => checkIssuerSeparation(2, [t('users/{iss}/{sub}/'), t('{iss}/x/'), t('public/')])).not.toThrow();
    expect(() => checkIssuerSeparation(3, [])).not.toThrow();
  });
});

describe('session restrictions in the policy', () => {
  const allows = (p: string) =>
    (JSON.parse(p).Statement as { Effect: string; Condition?: object; Resource: unknown }[]).filter(
      (s) => s.Effect === 'Allow',
    );
  const denies = (p: string) =>
    (JSON.parse(p).Statement as { Effect: string; Sid: string; Action: string; Condition: object }[]).filter(
      (s) => s.Effect === 'Deny',
    );

  it.each(['203.0.113.7/32', '10.0.0.0/8', '2001:db8::/48', '2001:DB8::1/128'])(
    'sourceCidr %s conditions every Allow',
    (cidr) => {
      const p = buildSessionPolicy('b', [{ prefix: 'p/', access: ['read', 'list'] }], { sourceCidr: cidr });
      for (const s of allows(p)) expect(s.Condition).toMatchObject({ IpAddress: { 'aws:SourceIp': cidr } });
    },
  );

  it.each([
    'x203.0.113.7/32',
    '203.0.113.7/32 ',
    '203.0.113.7',
    '203.0.113/24',
    '1.2.3.4/123',
    'a.b.c.d/8',
    '2001:db8::',
    'zz::/8',
    '"/32',
    '1.2.3.4/3x',
  ])('sourceCidr %j is a TypeError', (cidr) => {
    expect(() => buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }], { sourceCidr: cidr })).toThrow(
      new TypeError('restrictions.sourceCidr must be an address range such as "203.0.113.7/32"'),
    );
  });

  it('notAfter becomes DateLessThan aws:CurrentTime, in whole seconds, on every Allow', () => {
    const p = buildSessionPolicy('b', [{ prefix: 'p/', access: ['read', 'list'] }], {
      notAfter: new Date('2026-05-01T12:34:56.789Z'),
    });
    for (const s of allows(p)) {
      expect(s.Condition).toMatchObject({ DateLessThan: { 'aws:CurrentTime': '2026-05-01T12:34:56Z' } });
    }
  });

  it.each([new Date('nope'), '2026-01-01' as unknown as Date])('notAfter %j is a TypeError', (notAfter) => {
    expect(() => buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }], { notAfter })).toThrow(
      new TypeError('restrictions.notAfter must be a valid Date'),
    );
  });

  it('no restrictions: no condition on object Allows', () => {
    for (const s of allows(buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }]))) {
      expect(s.Condition).toBeUndefined();
    }
  });

  it('one scope: a single Resource string; several scopes with the same actions: a list', () => {
    expect(allows(buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }]))[0]!.Resource).toBe(
      'arn:aws:s3:::b/p/*',
    );
    const two = buildSessionPolicy('b', [
      { prefix: 'p/', access: ['read'] },
      { prefix: 'q/', access: ['read'] },
    ]);
    expect(allows(two)[0]!.Resource).toEqual(['arn:aws:s3:::b/p/*', 'arn:aws:s3:::b/q/*']);
  });

  it('writes: ACL, grant-header and tag denies; presigning denied; each can be allowed where documented', () => {
    const write = buildSessionPolicy('b', [{ prefix: 'p/', access: ['write'] }]);
    expect(denies(write).map((s) => s.Sid)).toEqual([
      'NoAcl',
      'NoGrantRead',
      'NoGrantReadAcp',
      'NoGrantWriteAcp',
      'NoGrantFullControl',
      'NoTags',
      'NoPresign',
    ]);
    expect(denies(write)[0]).toMatchObject({
      Action: 's3:PutObject',
      Condition: { StringLike: { 's3:x-amz-acl': '?*' } },
    });
    expect(denies(write)[2]).toMatchObject({ Condition: { StringLike: { 's3:x-amz-grant-read-acp': '*' } } });
    const relaxed = buildSessionPolicy('b', [{ prefix: 'p/', access: ['write'] }], {
      allowTagging: true,
      allowPresignedUrls: true,
    });
    expect(denies(relaxed).map((s) => s.Sid)).toEqual([
      'NoAcl',
      'NoGrantRead',
      'NoGrantReadAcp',
      'NoGrantWriteAcp',
      'NoGrantFullControl',
    ]);
  });

  it('read-only: no write denies, only the presign deny (unless allowed)', () => {
    expect(denies(buildSessionPolicy('b', [{ prefix: 'p/', access: ['read', 'list'] }])).map((s) => s.Sid)).toEqual([
      'NoPresign',
    ]);
    expect(denies(buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }], { allowPresignedUrls: true }))).toEqual(
      [],
    );
    expect(
      denies(buildSessionPolicy('b', [{ prefix: 'p/', access: ['read'] }], { allowTagging: true })).map((s) => s.Sid),
    ).toEqual(['NoPresign']);
  });
});

describe('session restrictions from a grant', () => {
  const session = {
    bindSourceIp: { ipv4PrefixLength: 24, ipv6PrefixLength: 64 },
    allowPresignedUrls: false,
    allowTagging: false,
    expireWithToken: true,
  } as const;

  it('binds to the caller’s network and the token’s expiry', () => {
    expect(sessionRestrictions(session as never, '203.0.113.7', 1_900_000_000)).toEqual({
      sourceCidr: '203.0.113.0/24',
      notAfter: new Date(1_900_000_000_000),
      allowPresignedUrls: false,
      allowTagging: false,
    });
  });

  it('refuses with 403 unknown_client_address when it cannot read the address', () => {
    expect(() => sessionRestrictions(session as never, undefined, 1)).toThrow(
      new ForbiddenError(
        'unknown_client_address',
        'this grant binds credentials to the client address, and the broker could not read it',
      ),
    );
    try {
      sessionRestrictions(session as never, undefined, 1);
    } catch (err) {
      expect((err as ForbiddenError).code).toBe('unknown_client_address');
    }
  });
});
