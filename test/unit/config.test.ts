// Configuration from the environment: every wrong value is one line naming the variable.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/index.js';

const base = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_BUCKET: 'uploads',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
  KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
  KEYHOLE_JWT_AUDIENCE: 'keyhole',
  KEYHOLE_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
};

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  return 'no error';
}

describe('loadConfig', () => {
  it('accepts a minimal AWS configuration with documented defaults', () => {
    const c = loadConfig(base);
    expect(c.port).toBe(8787);
    expect(c.host).toBe('127.0.0.1');
    expect(c.broker.durationSeconds).toBe(900);
    expect(c.broker.grants).toEqual([
      {
        bucket: 'uploads',
        scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }],
        session: { bindSourceIp: false, allowPresignedUrls: false, allowTagging: false, expireWithToken: true },
      },
    ]);
    expect(c.broker.rateLimit).toEqual({
      perSubject: { limit: 60, windowSeconds: 60 },
      perAddress: { limit: 600, windowSeconds: 60 },
    });
    expect(c.broker.devLogin).toBe(false);
    expect(c.broker.s3Endpoint).toBeUndefined();
    expect(c.vendor).toEqual({ kind: 'sts', roleArn: base.KEYHOLE_ROLE_ARN, region: 'us-east-1' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT: expected an integer from 0 to 65535 (got "eighty")'],
    [{ PORT: '70000' }, 'PORT: expected an integer from 0 to 65535 (got "70000")'],
    [{ KEYHOLE_DURATION_SECONDS: '60' }, 'KEYHOLE_DURATION_SECONDS: expected an integer from 900 to 43200 (got "60")'],
    [
      { KEYHOLE_ACCESS: 'read,admin' },
      'KEYHOLE_ACCESS: expected a comma list of read, write, list, delete (got "read,admin")',
    ],
    [
      { KEYHOLE_JWKS_URL: 'not a url' },
      'KEYHOLE_JWKS_URL: expected an absolute URL such as https://host:port (got "not a url")',
    ],
    [
      { KEYHOLE_ROLE_ARN: 'uploader' },
      'KEYHOLE_ROLE_ARN: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME (got "uploader")',
    ],
    [
      { KEYHOLE_PREFIX_TEMPLATE: 'users/{sub}' },
      'KEYHOLE_PREFIX_TEMPLATE: prefix template "users/{sub}" must end with "/"',
    ],
    [
      { KEYHOLE_PREFIX_TEMPLATE: 'users/*/{sub}/' },
      'KEYHOLE_PREFIX_TEMPLATE: prefix template "users/*/{sub}/" has an invalid segment "*": use letters, digits and ._@+=- or a whole-segment {claim}',
    ],
    [{ KEYHOLE_BUCKET: 'Not_A_Bucket' }, 'KEYHOLE_BUCKET: bucket must be a valid S3 bucket name'],
    [
      { KEYHOLE_RATE_LIMIT_SUBJECT: 'lots' },
      'KEYHOLE_RATE_LIMIT_SUBJECT: expected "LIMIT/WINDOW_SECONDS" such as "60/60", or "off" (got "lots")',
    ],
    [
      { KEYHOLE_DEV_LOGIN: 'yes' },
      'KEYHOLE_DEV_LOGIN: Invalid option: expected one of "0"|"1"|"true"|"false" (got "yes")',
    ],
    [
      { KEYHOLE_DEV_LOGIN: '1', NODE_ENV: 'production' },
      'KEYHOLE_DEV_LOGIN: must not be enabled when NODE_ENV=production',
    ],
    [{ KEYHOLE_JWT_AUDIENCE: '' }, 'KEYHOLE_JWT_AUDIENCE: is required when KEYHOLE_JWT_ISSUER is set'],
    [
      { KEYHOLE_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----x' },
      'KEYHOLE_JWKS_URL: set exactly one of KEYHOLE_JWKS_URL or KEYHOLE_JWT_PUBLIC_KEY with KEYHOLE_JWT_ISSUER',
    ],
    [{ KEYHOLE_GRANTS: '{' }, 'KEYHOLE_GRANTS: expected a JSON array of {when?, bucket, scopes:[{prefix, access}]}'],
    [
      { KEYHOLE_GRANTS: '[{"bucket":"uploads","scopes":[{"prefix":"users/{sub}/","access":["own"]}]}]' },
      'KEYHOLE_GRANTS: [0.scopes.0.access.0] Invalid option: expected one of "read"|"write"|"list"|"delete"',
    ],
    [
      { KEYHOLE_BROKER_ACCESS_KEY_ID: 'AKIA' },
      'KEYHOLE_BROKER_SECRET_ACCESS_KEY: set both KEYHOLE_BROKER_ACCESS_KEY_ID and KEYHOLE_BROKER_SECRET_ACCESS_KEY, or neither (to use the AWS default credential chain)',
    ],
  ])('%j → %s', (overrides, message) => {
    expect(errorOf({ ...base, ...overrides })).toBe(message);
  });

  it.each([
    ['AWS_REGION', 'AWS_REGION: is required for STS and for clients'],
    ['KEYHOLE_ROLE_ARN', 'KEYHOLE_ROLE_ARN: is required for KEYHOLE_VENDOR=sts'],
    ['KEYHOLE_BUCKET', 'KEYHOLE_BUCKET: is required (or KEYHOLE_GRANTS)'],
    [
      'KEYHOLE_JWT_ISSUER',
      'KEYHOLE_JWT_ISSUER: is required (the issuer of your users’ JWTs), unless KEYHOLE_DEV_LOGIN=1 for local development',
    ],
  ])('missing %s', (name, message) => {
    const env: Record<string, string> = { ...base };
    delete env[name];
    expect(errorOf(env)).toBe(message);
  });

  it('reads KEYHOLE_ENV_FILE under the real environment, which wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-'));
    const file = join(dir, 'keyhole.env');
    writeFileSync(file, '# comment\nKEYHOLE_BUCKET=from-file\nKEYHOLE_DURATION_SECONDS=1800\n');
    const c = loadConfig({ ...base, KEYHOLE_BUCKET: 'from-env', KEYHOLE_ENV_FILE: file });
    expect(c.broker.grants[0]!.bucket).toBe('from-env');
    expect(c.broker.durationSeconds).toBe(1800);
    expect(errorOf({ ...base, KEYHOLE_ENV_FILE: join(dir, 'missing.env') })).toBe(
      `KEYHOLE_ENV_FILE: cannot read "${join(dir, 'missing.env')}" (ENOENT); run \`npm run local:up\` to create it`,
    );
  });
});

describe('npm run broker with a bad configuration', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  });

  it('exits 2 with exactly one line naming the variable, no stack trace', () => {
    const run = spawnSync(process.execPath, ['dist/server/main.js'], {
      env: { PATH: process.env.PATH ?? '', ...base, KEYHOLE_DURATION_SECONDS: '5' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'keyhole: invalid configuration: KEYHOLE_DURATION_SECONDS: expected an integer from 900 to 43200 (got "5")\n',
    );
  });
});
