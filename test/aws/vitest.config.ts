// Config for `KEYHOLE_LIVE_AWS=1 npm run test:aws` only (the default config excludes test/aws/**): no
// local stack. The stack suite deploys and destroys a CloudFormation stack, so its hooks are long.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/aws/**/*.aws.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
