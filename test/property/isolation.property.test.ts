// Issue 3, section 2: property-based proof with an AWS-faithful oracle. Random subjects from the
// normal and adversarial alphabets, random keys and every access subset go through the broker's
// own grant resolution and policy builder; @cloud-copilot/iam-simulate then evaluates each request
// as AWS would (role policy ∩ session policy, assumed-role principal).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyholeError } from '../../server/errors.js';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { ALL_ACCESS, type Access } from '../../server/policy/access.js';
import { buildSessionPolicy } from '../../server/policy/session-policy.js';
import { adversarialSubject, anySubject, keySuffix, neighbourOf } from './arbitraries.js';
import { bucketArn, decide, evaluationCount, objectArn } from './oracle.js';

const BUCKET = 'uploads';
const RUNS = Number(process.env.KEYHOLE_PROPERTY_RUNS ?? 1500);

// The specification, written out independently of server/policy/access.ts.
const OBJECT_ACTIONS_FOR: Record<Exclude<Access, 'list'>, readonly string[]> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  delete: ['s3:DeleteObject'],
};
// Never granted by any access kind, on any prefix.
const NEVER_OBJECT = [
  's3:PutObjectAcl',
  's3:GetObjectAcl',
  's3:PutObjectTagging',
  's3:GetObjectTagging',
  's3:GetObjectVersion',
  's3:DeleteObjectVersion',
  's3:RestoreObject',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:GetObjectAttributes',
];
const NEVER_BUCKET = [
  's3:DeleteBucket',
  's3:PutBucketPolicy',
  's3:GetBucketPolicy',
  's3:PutBucketCORS',
  's3:PutBucketAcl',
  's3:ListBucketMultipartUploads',
  's3:ListBucketVersions',
  's3:PutLifecycleConfiguration',
  's3:PutBucketVersioning',
];
const TEMPLATES = ['users/{sub}/', 'tenants/{org}/users/{sub}/'] as const;

let cases = 0;
const tally = { allowed: 0, denied: 0 };
afterAll(() =>
  console.log(
    `isolation properties: ${cases} cases, ${evaluationCount()} simulator evaluations ` +
      `(${tally.allowed} must-allow, ${tally.denied} must-deny)`,
  ),
);

async function expectDecision(
  want: 'Allowed' | 'Denied',
  policy: string,
  action: string,
  resource: string,
  context?: Record<string, string>,
): Promise<void> {
  const got = await decide({
    bucket: BUCKET,
    sessionPolicy: policy,
    action,
    resource,
    ...(context ? { context } : {}),
  });
  const label = `${action} on ${resource} ${JSON.stringify(context ?? {})}`;
  if (want === 'Allowed') {
    tally.allowed++;
    expect(got, label).toBe('Allowed');
  } else {
    tally.denied++;
    expect(got, label).not.toBe('Allowed');
  }
}

interface Caller {
  sub: string;
  org: string;
}

function tryGrant(template: string, caller: Caller, access: Access[] | undefined) {
  const rules = compileGrants([{ bucket: BUCKET, scopes: [{ prefix: template, access: [...ALL_ACCESS] }] }]);
  try {
    const grant = resolveGrant(rules, { ...caller }, access);
    return { prefix: grant.scopes[0]!.prefix, policy: buildSessionPolicy(grant.bucket, grant.scopes) };
  } catch (err) {
    expect(['unsupported_subject', 'grant_too_large']).toContain((err as KeyholeError).code);
    return undefined;
  }
}

const scenario = fc
  .record({
    template: fc.constantFrom(...TEMPLATES),
    me: fc.record({ sub: anySubject(48), org: fc.oneof(fc.constantFrom('acme', 'acme2'), adversarialSubject(16)) }),
    access: fc.subarray([...ALL_ACCESS] as Access[], { minLength: 1 }),
    key: keySuffix,
    otherKey: keySuffix,
    rootKey: fc.constantFrom('object', 'rootfile.txt', 'users/', 'users', 'tenants/x'),
    rootVariant: fc.constantFrom(0, 1, 2),
    neverObject: fc.constantFrom(...NEVER_OBJECT),
    neverBucket: fc.constantFrom(...NEVER_BUCKET),
    whichDiffers: fc.constantFrom('sub', 'org', 'both'),
  })
  .chain((s) =>
    fc.record({
      s: fc.constant(s),
      otherSub: s.whichDiffers === 'org' ? fc.constant(s.me.sub) : fc.oneof(neighbourOf(s.me.sub), anySubject(48)),
      otherOrg:
        s.whichDiffers === 'sub' ? fc.constant(s.me.org) : fc.oneof(neighbourOf(s.me.org), adversarialSubject(16)),
    }),
  );

type GrantFn = (
  template: string,
  caller: Caller,
  access: Access[] | undefined,
) => { prefix: string; policy: string } | undefined;

// The whole must-allow / must-deny specification for one random case, for a given grant builder.
const isolationProperty = (grantFor: GrantFn) =>
  fc.asyncProperty(scenario, async ({ s, otherSub, otherOrg }) => {
    const other: Caller = { sub: otherSub, org: otherOrg };
    const usesOrg = s.template.includes('{org}');
    fc.pre(other.sub !== s.me.sub || (usesOrg && other.org !== s.me.org));
    const mine = grantFor(s.template, s.me, s.access);
    const theirs = grantFor(s.template, other, undefined);
    fc.pre(mine !== undefined && theirs !== undefined);
    cases++;
    const { prefix, policy } = mine!;
    const otherPrefix = theirs!.prefix;
    const granted = new Set(s.access);
    const grantedObjectActions = s.access.flatMap((a) => (a === 'list' ? [] : OBJECT_ACTIONS_FOR[a]));

    // Must be Allowed: each action in the grant on the caller's own prefix.
    for (const action of grantedObjectActions) {
      await expectDecision('Allowed', policy, action, objectArn(BUCKET, prefix + s.key));
    }
    if (granted.has('list')) {
      for (const p of [prefix, prefix + s.key]) {
        await expectDecision('Allowed', policy, 's3:ListBucket', bucketArn(BUCKET), { 's3:prefix': p });
      }
    }

    // Must be Denied: the same actions on the other subject's prefix (a neighbour or anyone).
    for (const action of grantedObjectActions) {
      await expectDecision('Denied', policy, action, objectArn(BUCKET, otherPrefix + s.otherKey));
    }
    // ...at the bucket root, at the parent of the prefix, and at a sibling that extends it.
    const rootLike = [s.rootKey, prefix.slice(0, -1), `${prefix.slice(0, -1)}2/${s.key}`][s.rootVariant]!;
    if (!rootLike.startsWith(prefix)) {
      for (const action of grantedObjectActions) {
        await expectDecision('Denied', policy, action, objectArn(BUCKET, rootLike));
      }
    }
    // ...ListBucket with an empty prefix, "users/", no prefix, another user's prefix, or ours without "/".
    const listDenied: (Record<string, string> | undefined)[] = [
      { 's3:prefix': '' },
      { 's3:prefix': prefix.split('/')[0] + '/' },
      undefined,
      { 's3:prefix': otherPrefix },
      { 's3:prefix': prefix.slice(0, -1) },
    ];
    for (const context of listDenied) {
      await expectDecision('Denied', policy, 's3:ListBucket', bucketArn(BUCKET), context);
    }
    if (!granted.has('list')) {
      await expectDecision('Denied', policy, 's3:ListBucket', bucketArn(BUCKET), { 's3:prefix': prefix });
    }
    // ...and any action outside the access subset, even on the caller's own prefix.
    for (const a of ALL_ACCESS.filter((x) => x !== 'list' && !granted.has(x)) as Exclude<Access, 'list'>[]) {
      for (const action of OBJECT_ACTIONS_FOR[a]) {
        await expectDecision('Denied', policy, action, objectArn(BUCKET, prefix + s.key));
      }
    }
    await expectDecision('Denied', policy, s.neverObject, objectArn(BUCKET, prefix + s.key));
    await expectDecision('Denied', policy, s.neverBucket, bucketArn(BUCKET));
  });

describe('isolation on the AWS-faithful simulator', () => {
  it(`must-allow own prefix, must-deny everything else (${RUNS} random cases, every access subset)`, async () => {
    await fc.assert(isolationProperty(tryGrant), { numRuns: RUNS });
    expect(cases).toBeGreaterThanOrEqual(RUNS);
  }, 180_000);

  it('has teeth: a naive builder that pastes subjects into the policy unescaped is caught', async () => {
    const naive: GrantFn = (template, caller, access) => {
      const prefix = template.replace('{sub}', caller.sub).replace('{org}', caller.org);
      const want = access ?? [...ALL_ACCESS];
      const actions = want.flatMap((a) => (a === 'list' ? [] : OBJECT_ACTIONS_FOR[a]));
      const statements: object[] = [];
      if (actions.length > 0)
        statements.push({ Effect: 'Allow', Action: actions, Resource: `arn:aws:s3:::${BUCKET}/${prefix}*` });
      if (want.includes('list')) {
        statements.push({
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: `arn:aws:s3:::${BUCKET}`,
          Condition: { StringLike: { 's3:prefix': `${prefix}*` } },
        });
      }
      return { prefix, policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) };
    };
    const counted = { cases, ...tally };
    const result = await fc.check(isolationProperty(naive), { numRuns: 300, seed: 42 });
    // The report counts Keyhole's own cases only.
    cases = counted.cases;
    Object.assign(tally, { allowed: counted.allowed, denied: counted.denied });
    expect(result.failed).toBe(true);
    // Either a must-deny request came back Allowed, or the naive prefix put a wildcard into a request.
    expect(String(result.errorInstance)).toMatch(/expected 'Allowed' not to be 'Allowed'|as a wildcard pattern/);
    // And concretely: naive "alice" reaches "alice/x"'s objects; naive "*" reaches bob's.
    for (const [me, victimKey] of [
      ['alice', 'users/alice/x/f.txt'],
      ['*', 'users/bob/f.txt'],
    ] as const) {
      const { policy } = naive('users/{sub}/', { sub: me, org: '' }, ['read'])!;
      expect(
        await decide({
          bucket: BUCKET,
          sessionPolicy: policy,
          action: 's3:GetObject',
          resource: objectArn(BUCKET, victimKey),
        }),
      ).toBe('Allowed');
    }
  });

  it('every one of the 15 access subsets, for adversarial subjects, against their neighbours', async () => {
    const subsets = powerSet(ALL_ACCESS);
    expect(subsets).toHaveLength(15);
    const pairs: [string, string][] = [
      ['alice', 'alice2'],
      ['alice2', 'alice'],
      ['alice', 'alice/x'],
      ['alice/x', 'alice'],
      ['*', 'bob'],
      ['?ob', 'bob'],
      ['${aws:username}', 'bob'],
      ['..', 'bob'],
      ['.', 'bob'],
      ['%2F', '/'],
      ['us-east-1:abc', 'us-east-1%3Aabc'],
    ];
    for (const access of subsets) {
      for (const [me, them] of pairs) {
        const mine = tryGrant('users/{sub}/', { sub: me, org: '' }, access)!;
        const theirs = tryGrant('users/{sub}/', { sub: them, org: '' }, undefined)!;
        cases++;
        for (const a of access) {
          if (a === 'list') {
            await expectDecision('Allowed', mine.policy, 's3:ListBucket', bucketArn(BUCKET), {
              's3:prefix': mine.prefix,
            });
            await expectDecision('Denied', mine.policy, 's3:ListBucket', bucketArn(BUCKET), {
              's3:prefix': theirs.prefix,
            });
            continue;
          }
          for (const action of OBJECT_ACTIONS_FOR[a]) {
            await expectDecision('Allowed', mine.policy, action, objectArn(BUCKET, `${mine.prefix}f.txt`));
            await expectDecision('Denied', mine.policy, action, objectArn(BUCKET, `${theirs.prefix}f.txt`));
            await expectDecision('Denied', mine.policy, action, objectArn(BUCKET, 'f.txt'));
          }
        }
      }
    }
  });
});

function powerSet<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) out.push(items.filter((_, i) => mask & (1 << i)));
  return out;
}
