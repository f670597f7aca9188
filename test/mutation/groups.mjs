// @ts-check
// The modules StrykerJS mutates, in groups, each with the test files that exercise it. A group
// runs as its own StrykerJS run (test/mutation/run.mjs, `npm run test:mutation`): its dry run and
// each of its mutants run only these tests (and, within them, only the tests that cover the
// mutant), so no group pays for the others' slow tests. Every file here is a unit or property
// test (no RGW); a new test that kills mutants of a group must be added to its list.
// Static mutants (module-level constants: regexes, limits, the policy's Deny statements) cannot be
// traced to single tests, so each of them runs every test file of its group: the lists hold fast,
// example-based tests, and leave out the long property runs (policy-builder.property takes 8 to 23 s
// per run, limits.property 3 s), whose findings are stated as literals in policy-limits.test.ts.

/** @typedef {{ name: string, mutate: string[], testFiles: string[] }} MutationGroup */

/** @type {MutationGroup[]} */
export const GROUPS = [
  {
    name: 'policy-subject',
    mutate: [
      'server/policy/subject.ts',
      'server/policy/prefix-template.ts',
      'server/policy/session-name.ts',
      'server/policy/issuer-separation.ts',
    ],
    testFiles: [
      'test/unit/policy-modules.test.ts',
      'test/unit/prefix-render.test.ts',
      'test/unit/policy-limits.test.ts',
    ],
  },
  {
    name: 'policy-session',
    mutate: ['server/policy/session-policy.ts', 'server/policy/session-restrictions.ts', 'server/policy/access.ts'],
    testFiles: [
      'test/unit/session-policy.test.ts',
      'test/unit/session-restrictions.test.ts',
      'test/unit/session-hardening.test.ts',
      'test/unit/policy-modules.test.ts',
      'test/unit/policy-limits.test.ts',
    ],
  },
  {
    name: 'auth',
    mutate: ['server/auth/**/*.ts'],
    testFiles: [
      'test/unit/jwt-verify.test.ts',
      'test/unit/verify-token-errors.test.ts',
      'test/unit/verified-token-cache.test.ts',
      'test/unit/key-algorithms.test.ts',
      'test/unit/verify-token-cache-checks.test.ts',
      'test/unit/dev-login.test.ts',
    ],
  },
  {
    name: 'credential-cache',
    mutate: ['server/credential-cache.ts', 'server/shared/credential-cache.ts'],
    testFiles: [
      'test/unit/credential-cache.test.ts',
      'test/unit/credential-cache-clock.test.ts',
      'test/unit/shared-credential-cache.test.ts',
    ],
  },
  {
    name: 'rate-limit',
    mutate: ['server/http/rate-limit.ts', 'server/shared/rate-limit.ts'],
    testFiles: [
      'test/unit/mutation-gaps.test.ts',
      'test/unit/shared-rate-limit.test.ts',
      'test/unit/rate-limit-exact.test.ts',
      'test/property/rate-limit.property.test.ts',
      'test/property/rate-limit-keys.property.test.ts',
    ],
  },
  {
    name: 'client-credentials',
    mutate: [
      'client/protocol/access.ts',
      'client/credentials.ts',
      'client/broker-request.ts',
      'client/broker-response.ts',
    ],
    testFiles: [
      'test/unit/client-credentials.test.ts',
      'test/unit/client-credentials-retry.test.ts',
      'test/unit/broker-response.test.ts',
      'test/unit/client-protocol.test.ts',
      'test/unit/client-network-error.test.ts',
      'test/unit/client-signout.test.ts',
      'test/unit/client-provider-extras.test.ts',
      'test/unit/cors-refusal.test.ts',
      'test/unit/mutation-gaps.test.ts',
    ],
  },
  {
    name: 'client-storage',
    mutate: [
      'client/keys.ts',
      'client/acl-guard.ts',
      'client/storage-upload.ts',
      'client/multipart-cleanup.ts',
      'client/upload-parts.ts',
      'client/resumable-upload.ts',
    ],
    testFiles: [
      'test/unit/client-keys.test.ts',
      'test/unit/client-key-limits.test.ts',
      'test/unit/acl-guard.test.ts',
      'test/unit/storage-fake-s3.test.ts',
      'test/unit/storage-upload-control.test.ts',
      'test/unit/upload-parts.test.ts',
      'test/unit/resumable-upload.test.ts',
      'test/unit/storage-access-denied.test.ts',
      'test/unit/multipart-watcher.test.ts',
      'test/unit/upload-sizing.test.ts',
      'test/unit/mutation-gaps.test.ts',
    ],
  },
];

/** Every mutated file pattern, in group order. */
export const ALL_MUTATED = GROUPS.flatMap((g) => g.mutate);

/**
 * The group named by KEYHOLE_MUTATION_GROUP, or undefined when unset (then one StrykerJS run
 * mutates every group's files against the whole mutation test set).
 * @param {string | undefined} name
 * @returns {MutationGroup | undefined}
 */
export function groupNamed(name) {
  if (!name) return undefined;
  const group = GROUPS.find((g) => g.name === name);
  if (!group) {
    throw new RangeError(
      `KEYHOLE_MUTATION_GROUP=${name} is not a mutation group; use one of: ${GROUPS.map((g) => g.name).join(', ')}`,
    );
  }
  return group;
}
