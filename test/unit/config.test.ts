// Configuration from the environment: every wrong value is one line naming the variable, and every
// wrong variable is reported at once. The Cognito variables' tests came from
// test/contract/cognito-config.test.ts, and the rate-limit ones from test/security/abuse-controls.test.ts
// (neither needs the local stack, so they run in `npm run test:unit`).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { configProblems, parseConfig } from '../../server/config.js';
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
    expect(c.broker.awsSdkRoute).toBe(false);
    expect(loadConfig({ ...base, KEYHOLE_SDK_CREDENTIALS_ROUTE: '1' }).broker.awsSdkRoute).toBe(true);
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
    // Named after the variable that is wrong (a prefix length out of range used to be blamed on KEYHOLE_BUCKET).
    [
      { KEYHOLE_BIND_SOURCE_IP: '33,64' },
      'KEYHOLE_BIND_SOURCE_IP: expected "off", "on" (exact address) or "IPV4_BITS,IPV6_BITS" such as "24,64" (got "33,64")',
    ],
    [
      { KEYHOLE_BIND_SOURCE_IP: '24,129' },
      'KEYHOLE_BIND_SOURCE_IP: expected "off", "on" (exact address) or "IPV4_BITS,IPV6_BITS" such as "24,64" (got "24,129")',
    ],
    [
      { KEYHOLE_CORS_ORIGINS: 'https://app.example.com,*' },
      'KEYHOLE_CORS_ORIGINS: expected a comma list of exact origins such as https://app.example.com (no path, no "*") (got "https://app.example.com,*")',
    ],
    [
      { KEYHOLE_CORS_ORIGINS: 'https://app.example.com/' },
      'KEYHOLE_CORS_ORIGINS: expected a comma list of exact origins such as https://app.example.com (no path, no "*") (got "https://app.example.com/")',
    ],
    [
      {
        KEYHOLE_GRANTS:
          '[{"bucket":"uploads","scopes":[{"prefix":"a/{sub}/","access":["read"]}]},{"bucket":"Bad_Bucket","scopes":[{"prefix":"b/{sub}","access":["read"]}]}]',
      },
      'KEYHOLE_GRANTS: [1.bucket] must be a valid S3 bucket name\n' +
        'KEYHOLE_GRANTS: [1.scopes.0.prefix] prefix template "b/{sub}" must end with "/"',
    ],
    [
      {
        KEYHOLE_GRANTS:
          '[{"bucket":"uploads","scopes":[{"prefix":"u/{sub}/","access":["read"]}],"session":{"bindSourceIp":{"ipv4PrefixLength":40}}}]',
      },
      'KEYHOLE_GRANTS: [0.session.bindSourceIp.ipv4PrefixLength] Too big: expected number to be <=32',
    ],
    [{ KEYHOLE_GRANTS: '[]' }, 'KEYHOLE_GRANTS: [] expected at least one rule'],
    [{ KEYHOLE_LOG_FORMAT: 'fancy' }, 'KEYHOLE_LOG_FORMAT: expected "auto", "json" or "pretty" (got "fancy")'],
    [
      { KEYHOLE_LOG_FORMAT: 'pretty', NODE_ENV: 'production' },
      'KEYHOLE_LOG_FORMAT: must not be "pretty" when NODE_ENV=production: audit events stay JSON for log pipelines',
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

describe('every problem at once', () => {
  const many = {
    ...base,
    PORT: 'eighty',
    KEYHOLE_DURATION_SECONDS: '60',
    KEYHOLE_PREFIX_TEMPLATE: 'users/{sub}',
    AWS_REGION: undefined,
    KEYHOLE_TRUST_PROXY: 'true',
  };
  const expected = [
    { variable: 'PORT', message: 'expected an integer from 0 to 65535 (got "eighty")' },
    { variable: 'KEYHOLE_DURATION_SECONDS', message: 'expected an integer from 900 to 43200 (got "60")' },
    { variable: 'KEYHOLE_PREFIX_TEMPLATE', message: 'prefix template "users/{sub}" must end with "/"' },
    { variable: 'AWS_REGION', message: 'is required for STS and for clients' },
    {
      variable: 'KEYHOLE_TRUST_PROXY',
      message:
        'must not be true: that trusts the left-most X-Forwarded-For entry, which the client writes; must be false, ' +
        'the number of proxies in front of the broker (e.g. 1), or their addresses/CIDRs (e.g. "10.0.0.0/8", "loopback")',
    },
  ];

  it('parseConfig answers every problem, each naming its variable, in a fixed order', () => {
    expect(parseConfig(many)).toEqual({ ok: false, problems: expected });
  });

  it('loadConfig throws one ConfigError: one line per problem, the first variable, and the list', () => {
    let err: unknown;
    try {
      loadConfig(many);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const error = err as ConfigError;
    expect(error.variable).toBe('PORT');
    expect(error.message.split('\n')).toEqual(expected.map((p) => `${p.variable}: ${p.message}`));
    expect(configProblems(error)).toEqual(expected);
  });

  it('a single problem is exactly the ConfigError one would build by hand', () => {
    expect(() => loadConfig({ ...base, PORT: 'eighty' })).toThrow(
      new ConfigError('PORT', 'expected an integer from 0 to 65535 (got "eighty")'),
    );
    expect(configProblems(new ConfigError('KEYHOLE_X', 'is odd'))).toEqual([
      { variable: 'KEYHOLE_X', message: 'is odd' },
    ]);
  });

  it('a variable that cannot be read is not also reported as missing, and checks that need it wait', () => {
    // The vendor is unreadable: neither "KEYHOLE_ROLE_ARN is required for KEYHOLE_VENDOR=sts" nor Cognito's checks.
    expect(parseConfig({ ...base, KEYHOLE_ROLE_ARN: undefined, KEYHOLE_VENDOR: 'iam' })).toEqual({
      ok: false,
      problems: [{ variable: 'KEYHOLE_VENDOR', message: 'expected "sts" or "cognito" (got "iam")' }],
    });
    // An unreadable role ARN is reported once, as unreadable.
    expect(parseConfig({ ...base, KEYHOLE_ROLE_ARN: 'role' })).toMatchObject({
      problems: [{ variable: 'KEYHOLE_ROLE_ARN' }],
    });
  });

  it('includes the web app settings, so KEYHOLE_WEB_DIR problems come with the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-web-'));
    expect(parseConfig({ ...base, PORT: 'x', KEYHOLE_WEB_DIR: dir })).toEqual({
      ok: false,
      problems: [
        { variable: 'PORT', message: 'expected an integer from 0 to 65535 (got "x")' },
        {
          variable: 'KEYHOLE_WEB_DIR',
          message: `expected a directory with index.html, such as client/web/dist (got "${dir}")`,
        },
      ],
    });
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    const web = loadConfig({ ...base, KEYHOLE_WEB_DIR: dir }).web;
    expect(web?.dir).toBe(dir);
    expect(loadConfig(base).web).toBeUndefined();
  });
});

describe('KEYHOLE_LOG_FORMAT', () => {
  it('defaults to auto; json and pretty are kept; production is recorded for the logger', () => {
    expect(loadConfig(base)).toMatchObject({ logFormat: 'auto', production: false });
    expect(loadConfig({ ...base, KEYHOLE_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ ...base, KEYHOLE_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ ...base, NODE_ENV: 'production' })).toMatchObject({ logFormat: 'auto', production: true });
  });
});

describe('rate limits from the environment', () => {
  it('is configurable from the environment, and a wrong value names the variable', () => {
    const base = {
      KEYHOLE_DEV_LOGIN: '1',
      KEYHOLE_BUCKET: 'uploads',
      KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
      AWS_REGION: 'eu-west-1',
    };
    const config = loadConfig({ ...base, KEYHOLE_RATE_LIMIT_SUBJECT: '5/10', KEYHOLE_RATE_LIMIT_ADDRESS: 'off' });
    expect(config.broker.rateLimit).toEqual({ perSubject: { limit: 5, windowSeconds: 10 }, perAddress: false });
    expect(() => loadConfig({ ...base, KEYHOLE_RATE_LIMIT_SUBJECT: 'fast' })).toThrow(
      new ConfigError(
        'KEYHOLE_RATE_LIMIT_SUBJECT',
        'expected "LIMIT/WINDOW_SECONDS" such as "60/60", or "off" (got "fast")',
      ),
    );
  });
});

const POOL = 'eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11';
const cognitoBase = {
  KEYHOLE_DEV_LOGIN: '1',
  KEYHOLE_BUCKET: 'amplify-bucket',
  KEYHOLE_PREFIX_TEMPLATE: 'private/{identityId}/',
  AWS_REGION: 'eu-west-1',
  KEYHOLE_VENDOR: 'cognito',
  KEYHOLE_COGNITO_IDENTITY_POOL_ID: POOL,
  KEYHOLE_COGNITO_DEVELOPER_PROVIDER: 'login.keyhole.test',
  KEYHOLE_COGNITO_MODE: 'enhanced',
};

function cognitoConfigError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('KEYHOLE_VENDOR=cognito configuration', () => {
  it('builds the enhanced vendor options', () => {
    expect(loadConfig(cognitoBase).vendor).toEqual({
      kind: 'cognito',
      identityPoolId: POOL,
      developerProviderName: 'login.keyhole.test',
      mode: 'enhanced',
      region: 'eu-west-1',
    });
  });
  it('builds the basic vendor options with the role and broker credentials', () => {
    const role = 'arn:aws:iam::123456789012:role/keyhole-cognito';
    expect(
      loadConfig({
        ...cognitoBase,
        KEYHOLE_COGNITO_MODE: 'basic',
        KEYHOLE_ROLE_ARN: role,
        KEYHOLE_BROKER_ACCESS_KEY_ID: 'AKID',
        KEYHOLE_BROKER_SECRET_ACCESS_KEY: 'secret',
      }).vendor,
    ).toEqual({
      kind: 'cognito',
      identityPoolId: POOL,
      developerProviderName: 'login.keyhole.test',
      mode: 'basic',
      region: 'eu-west-1',
      roleArn: role,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });
  });
  it.each([
    [{ KEYHOLE_VENDOR: 'cognitoo' }, 'KEYHOLE_VENDOR: expected "sts" or "cognito" (got "cognitoo")'],
    [
      { KEYHOLE_COGNITO_IDENTITY_POOL_ID: undefined },
      'KEYHOLE_COGNITO_IDENTITY_POOL_ID: is required for KEYHOLE_VENDOR=cognito',
    ],
    [
      { KEYHOLE_COGNITO_IDENTITY_POOL_ID: 'eu-west-1_abc' },
      'KEYHOLE_COGNITO_IDENTITY_POOL_ID: expected an identity pool id such as eu-west-1:<uuid> (got "eu-west-1_abc")',
    ],
    [
      { KEYHOLE_COGNITO_DEVELOPER_PROVIDER: undefined },
      'KEYHOLE_COGNITO_DEVELOPER_PROVIDER: is required for KEYHOLE_VENDOR=cognito',
    ],
    [
      { KEYHOLE_COGNITO_MODE: undefined },
      'KEYHOLE_COGNITO_MODE: is required for KEYHOLE_VENDOR=cognito ("enhanced" or "basic")',
    ],
    [{ KEYHOLE_COGNITO_MODE: 'classic' }, 'KEYHOLE_COGNITO_MODE: expected "enhanced" or "basic" (got "classic")'],
    [{ KEYHOLE_COGNITO_MODE: 'basic' }, 'KEYHOLE_ROLE_ARN: is required for KEYHOLE_COGNITO_MODE=basic'],
    [
      { KEYHOLE_COGNITO_MODE: 'basic', KEYHOLE_ROLE_ARN: 'arn:aws:iam:::role/keyhole-uploader' },
      'KEYHOLE_ROLE_ARN: must name a role in an AWS account (12-digit id) for KEYHOLE_VENDOR=cognito',
    ],
  ])('%j -> %s', (change, message) => {
    expect(cognitoConfigError({ ...cognitoBase, ...change })).toBe(message);
  });

  it.each([
    [
      'KEYHOLE_PREFIX_TEMPLATE: "users/{sub}/" is per caller but has no {identityId}',
      { KEYHOLE_PREFIX_TEMPLATE: undefined },
    ],
    [
      'KEYHOLE_GRANTS: [0.scopes.1.prefix] "users/{iss}/{sub}/" is per caller but has no {identityId}',
      {
        KEYHOLE_GRANTS: JSON.stringify([
          {
            bucket: 'amplify-bucket',
            scopes: [
              { prefix: 'private/{identityId}/', access: ['read'] },
              { prefix: 'users/{iss}/{sub}/', access: ['read'] },
            ],
          },
        ]),
      },
    ],
  ])('enhanced mode refuses a per-caller prefix the pool role cannot confine: %s', (start, change) => {
    expect(cognitoConfigError({ ...cognitoBase, ...change })).toBe(
      `${start}: in the Cognito enhanced flow the identity pool's role policy is the grant, and it can tell callers ` +
        'apart only by identity id (${cognito-identity.amazonaws.com:sub}); put {identityId} in the prefix, ' +
        'e.g. "private/{identityId}/", or use KEYHOLE_COGNITO_MODE=basic',
    );
  });
  it('basic mode keeps any prefix (its session policy narrows the role)', () => {
    const role = 'arn:aws:iam::123456789012:role/keyhole-cognito';
    const config = loadConfig({
      ...cognitoBase,
      KEYHOLE_PREFIX_TEMPLATE: undefined,
      KEYHOLE_COGNITO_MODE: 'basic',
      KEYHOLE_ROLE_ARN: role,
    });
    expect(config.broker.grants[0]!.scopes[0]!.prefix).toBe('users/{sub}/');
  });

  it('the broker exits 2 with that one line', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...cognitoBase, KEYHOLE_COGNITO_MODE: 'basic' };
    const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      env,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result).toEqual({
      code: 2,
      stderr: 'keyhole: invalid configuration: KEYHOLE_ROLE_ARN: is required for KEYHOLE_COGNITO_MODE=basic\n',
    });
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
  it('with several wrong variables, exits 2 with one line for each', () => {
    const run = spawnSync(process.execPath, ['dist/server/main.js'], {
      env: { PATH: process.env.PATH ?? '', ...base, KEYHOLE_DURATION_SECONDS: '5', KEYHOLE_BUCKET: 'Not_A_Bucket' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'keyhole: invalid configuration: KEYHOLE_DURATION_SECONDS: expected an integer from 900 to 43200 (got "5")\n' +
        'keyhole: invalid configuration: KEYHOLE_BUCKET: bucket must be a valid S3 bucket name\n',
    );
  });
});
