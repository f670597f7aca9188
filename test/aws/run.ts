// `npm run test:aws`: the opt-in live suite against a real AWS account (Cognito identity pool, S3).
// Without the settings below it prints that it did NOT run and why, and exits 2: it never passes silently.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REQUIRED = {
  KEYHOLE_AWS_IDENTITY_POOL_ID: 'identity pool id, e.g. eu-west-1:<uuid>',
  KEYHOLE_AWS_DEVELOPER_PROVIDER: "the pool's developer provider name",
  KEYHOLE_AWS_BUCKET: 'an S3 bucket the pool role can reach (objects are written under private/, protected/)',
} as const;

const missing = Object.entries(REQUIRED).filter(([name]) => !process.env[name]);
const hasCredentials =
  Boolean(process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY) ||
  Boolean(process.env.AWS_PROFILE) ||
  Boolean(process.env.AWS_WEB_IDENTITY_TOKEN_FILE) ||
  Boolean(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI || process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
if (missing.length > 0 || !hasCredentials) {
  const lines = ['test:aws did NOT run: it needs a real AWS account and these settings are missing:'];
  if (!hasCredentials) {
    lines.push(
      '  AWS credentials (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity/container role)',
    );
  }
  for (const [name, what] of missing) lines.push(`  ${name}: ${what}`);
  lines.push(
    'Optional: KEYHOLE_AWS_REGION (default: the pool id prefix), KEYHOLE_AWS_BASIC_ROLE_ARN (also run the basic flow).',
    'No test was run; nothing passed.',
  );
  process.stderr.write(lines.join('\n') + '\n');
  process.exit(2);
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const result = spawnSync(
  process.execPath,
  [
    fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url)),
    'run',
    '--config',
    'test/aws/vitest.config.ts',
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
