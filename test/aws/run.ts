// `KEYHOLE_LIVE_AWS=1 npm run test:aws`: the opt-in live suites against a real AWS account. Never in CI,
// never in `npm test`. Without the opt-in, or without what a suite needs, it prints that it did NOT
// run and why, and exits 2: it never passes silently.
//   - test/aws/stack.aws.test.ts: deploys a throwaway Keyhole stack (infra/aws), checks isolation,
//     uploads and revocation through the real API URL, and destroys it. Needs AWS credentials, a
//     region, and a CDK-bootstrapped account (`npx cdk bootstrap`).
//   - test/aws/cognito.aws.test.ts: the Cognito vendor against an existing identity pool.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COGNITO = {
  KEYHOLE_AWS_IDENTITY_POOL_ID: 'identity pool id, e.g. eu-west-1:<uuid>',
  KEYHOLE_AWS_DEVELOPER_PROVIDER: "the pool's developer provider name",
  KEYHOLE_AWS_BUCKET: 'an S3 bucket the pool role can reach (objects are written under private/, protected/)',
} as const;

const notRun = (lines: string[]): never => {
  process.stderr.write([...lines, 'No test was run; nothing passed.'].join('\n') + '\n');
  process.exit(2);
};

if (process.env.KEYHOLE_LIVE_AWS !== '1') {
  notRun([
    'test:aws did NOT run: the live AWS suites are opt-in. They deploy and destroy real resources in your account',
    '(a Keyhole stack: S3 bucket, IAM roles, Lambda, HTTP API, log groups; a few cents at most).',
    'Run them with: KEYHOLE_LIVE_AWS=1 npm run test:aws',
  ]);
}
const hasCredentials =
  Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY) ||
  Boolean(process.env.AWS_PROFILE) ||
  Boolean(process.env.AWS_WEB_IDENTITY_TOKEN_FILE) ||
  Boolean(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI || process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
const hasRegion = Boolean(process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
if (!hasCredentials || !hasRegion) {
  notRun([
    'test:aws did NOT run: it needs a real AWS account and these settings are missing:',
    ...(hasCredentials
      ? []
      : [
          '  AWS credentials (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity/container role)',
        ]),
    ...(hasRegion
      ? []
      : ['  AWS_REGION: the region to deploy the throwaway stack to (bootstrapped with `npx cdk bootstrap`)']),
  ]);
}

const files = ['test/aws/stack.aws.test.ts'];
const missing = Object.entries(COGNITO).filter(([name]) => !process.env[name]);
if (missing.length === 0) files.push('test/aws/cognito.aws.test.ts');
else {
  process.stderr.write(
    'test:aws: the Cognito vendor suite is skipped; it needs an existing identity pool:\n' +
      missing.map(([name, what]) => `  ${name}: ${what}`).join('\n') +
      '\n  Optional: KEYHOLE_AWS_REGION (default: the pool id prefix), KEYHOLE_AWS_BASIC_ROLE_ARN (also run the basic flow).\n',
  );
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const result = spawnSync(
  process.execPath,
  [
    fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url)),
    'run',
    '--config',
    'test/aws/vitest.config.ts',
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
