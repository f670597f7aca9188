// Config for `npm run test:aws` only (the default config excludes test/aws/**): no local stack.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/aws/**/*.aws.test.ts'],
    testTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
