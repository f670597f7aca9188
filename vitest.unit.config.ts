import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the unit and property suites only. The local RGW stack is neither started nor
// needed (the one globalSetup builds dist/ when it is missing), and nothing here opens a connection
// beyond 127.0.0.1 test servers.
// These files also run once in the default config (vitest.config.ts), as part of `npm test`.
export const UNIT_TESTS = ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
