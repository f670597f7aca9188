// @ts-check
// StrykerJS over the security-critical modules. `npm run test:mutation` runs test/mutation/run.mjs,
// which starts one StrykerJS run per group of test/mutation/groups.mjs (KEYHOLE_MUTATION_GROUP set
// to its name): each group mutates its own files against its own test files only (chosen in
// vitest.mutation.config.ts, not with StrykerJS's testFiles: see there), so the slow
// tests of one module are never run for another's mutants. Not part of `npm test`.
// One test process per core by default (2 on this machine: measured 0.71x the wall time of one,
// see test/MUTATION.md; on a machine shared with other work pass `--concurrency 1`); within a
// group only the tests that cover a mutant run for it (perTest coverage, vitest related mode).
// Results: .local/mutation/<group>/ (HTML, JSON and the incremental file; .local/ is git-ignored);
// the summary is kept in test/MUTATION.md.
// One group: `npm run test:mutation -- --group policy-subject`; one file of it: add `--mutate <file>`.
// Plain `npx stryker run` (no group) mutates every group's files against the whole mutation test set.
import { availableParallelism } from 'node:os';
import { ALL_MUTATED, groupNamed } from './test/mutation/groups.mjs';

const group = groupNamed(process.env.KEYHOLE_MUTATION_GROUP);
const out = group ? `.local/mutation/${group.name}` : '.local/mutation';

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
  concurrency: availableParallelism(),
  mutate: group ? group.mutate : ALL_MUTATED,
  // Never copy the local RGW (GBs of sparse block files), builds or reports into the sandbox.
  ignorePatterns: ['.local', 'dist', 'client/web/dist', 'test/e2e/screenshots', 'test/bench/results'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${out}/mutation.html` },
  jsonReporter: { fileName: `${out}/mutation.json` },
  clearTextReporter: { allowColor: false, reportTests: false, logTests: false },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 15_000,
  timeoutFactor: 2,
  tempDirName: group ? `.local/stryker-tmp-${group.name}` : '.local/stryker-tmp',
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  cleanTempDir: 'always',
};
