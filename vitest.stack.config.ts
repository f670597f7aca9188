import { defineConfig } from 'vitest/config';

// The stack lifecycle suite restarts the shared RGW, so it runs on its own before everything else.
export default defineConfig({
  test: {
    include: ['test/stack/**/*.test.ts'],
    globalSetup: ['test/setup/build.ts', 'test/setup/local-stack.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
