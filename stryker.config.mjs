// @ts-check
// StrykerJS over the security-critical modules: `npm run test:mutation` (not part of `npm test`).
// One test process at a time (2 shared cores); only the tests that cover a mutant run for it
// (perTest coverage, vitest related mode), from the fast no-RGW subset in vitest.mutation.config.ts.
// Results: .local/mutation/ (HTML and JSON; .local/ is git-ignored); the summary is kept in test/MUTATION.md.
// One module only: `npm run test:mutation -- --mutate client/keys.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // The TypeScript checker is opt-in (KEYHOLE_MUTATION_TYPECHECK=1): measured on this machine it
  // doubled the CPU time of a run (1 to 2 s of type-checking per mutant against 0.3 to 1 s of
  // tests), and every mutant it would have set aside as a compile error was killed by the tests
  // anyway (prefix-template: 23 of 23). See test/MUTATION.md, "Run time".
  checkers: process.env.KEYHOLE_MUTATION_TYPECHECK === '1' ? ['typescript'] : [],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  concurrency: 1,
  mutate: [
    'server/policy/**/*.ts',
    'server/auth/**/*.ts',
    'server/credential-cache.ts',
    'server/http/rate-limit.ts',
    // isAccess/canonicalAccess: the server validates the requested access list with them.
    'client/protocol/access.ts',
    // The credentials provider: caching and refresh (credentials.ts), the broker call and its retries
    // (broker-request.ts), reading the broker's answer (broker-response.ts).
    'client/credentials.ts',
    'client/broker-request.ts',
    'client/broker-response.ts',
    // What client/storage.ts held before it was split: key validation, the ACL guard, uploads and
    // the abort of a failed or cancelled multipart upload.
    'client/keys.ts',
    'client/acl-guard.ts',
    'client/storage-upload.ts',
    'client/multipart-cleanup.ts',
  ],
  // Never copy the local RGW (GBs of sparse block files), builds or reports into the sandbox.
  ignorePatterns: ['.local', 'dist', 'client/web/dist', 'test/e2e/screenshots', 'test/bench/results'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.local/mutation/mutation.html' },
  jsonReporter: { fileName: '.local/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, logTests: false },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 15_000,
  timeoutFactor: 2,
  tempDirName: '.local/stryker-tmp',
  incremental: true,
  incrementalFile: '.local/mutation/incremental.json',
  cleanTempDir: 'always',
};
