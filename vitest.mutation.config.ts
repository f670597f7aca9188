import { defineConfig } from 'vitest/config';
import { groupNamed } from './test/mutation/groups.mjs';
import { UNIT_TESTS } from './vitest.unit.config.js';

// The tests StrykerJS runs (`npm run test:mutation`, stryker.config.mjs): the unit and property
// suites (no RGW), except those too slow to run once per mutant or that spawn processes:
// isolation.property (23 s of IAM simulation per run; policy-builder and session-policy cover the
// same code much faster), simulator-gaps (pins the simulator, not our code), config,
// dev-login-production and web-app (they build or spawn the broker, seconds per run, and cover
// configuration code outside the mutated modules), and client-error-codes (it reads the client's
// sources, which StrykerJS rewrites in its sandbox). New unit tests are picked up automatically.
export const MUTATION_EXCLUDED = [
  'test/property/isolation.property.test.ts',
  'test/property/simulator-gaps.test.ts',
  'test/unit/client-error-codes.test.ts',
  'test/unit/config.test.ts',
  'test/unit/dev-login-production.test.ts',
  'test/unit/web-app.test.ts',
];

// One group's run (KEYHOLE_MUTATION_GROUP, set by test/mutation/run.mjs) sees its own test files
// only. They are chosen here rather than with StrykerJS's `testFiles` option: with `testFiles`,
// StrykerJS 9.6.1 activates static mutants after the module was loaded, so every static mutant
// "survives" untested (stryker-mutator/stryker-js#6144; seen here: 23 of 23 in server/policy).
const group = groupNamed(process.env.KEYHOLE_MUTATION_GROUP);

export default defineConfig({
  test: {
    include: group ? group.testFiles : UNIT_TESTS,
    exclude: ['node_modules/**', ...MUTATION_EXCLUDED],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
