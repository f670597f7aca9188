// KEYHOLE_VENDOR=cognito configuration: each wrong or missing variable is one line naming it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/index.js';

const POOL = 'eu-west-1:0f8c6a52-5b7e-4d2a-9a77-2f0f4f6f7c11';
const base = {
  KEYHOLE_DEV_LOGIN: '1',
  KEYHOLE_BUCKET: 'amplify-bucket',
  KEYHOLE_PREFIX_TEMPLATE: 'private/{identityId}/',
  AWS_REGION: 'eu-west-1',
  KEYHOLE_VENDOR: 'cognito',
  KEYHOLE_COGNITO_IDENTITY_POOL_ID: POOL,
  KEYHOLE_COGNITO_DEVELOPER_PROVIDER: 'login.keyhole.test',
  KEYHOLE_COGNITO_MODE: 'enhanced',
};

function configError(env: Record<string, string | undefined>): string {
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
    expect(loadConfig(base).vendor).toEqual({
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
        ...base,
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
    expect(configError({ ...base, ...change })).toBe(message);
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
    expect(configError({ ...base, ...change })).toBe(
      `${start}: in the Cognito enhanced flow the identity pool's role policy is the grant, and it can tell callers ` +
        'apart only by identity id (${cognito-identity.amazonaws.com:sub}); put {identityId} in the prefix, ' +
        'e.g. "private/{identityId}/", or use KEYHOLE_COGNITO_MODE=basic',
    );
  });
  it('basic mode keeps any prefix (its session policy narrows the role)', () => {
    const role = 'arn:aws:iam::123456789012:role/keyhole-cognito';
    const config = loadConfig({
      ...base,
      KEYHOLE_PREFIX_TEMPLATE: undefined,
      KEYHOLE_COGNITO_MODE: 'basic',
      KEYHOLE_ROLE_ARN: role,
    });
    expect(config.broker.grants[0]!.scopes[0]!.prefix).toBe('users/{sub}/');
  });

  it('the broker exits 2 with that one line', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...base, KEYHOLE_COGNITO_MODE: 'basic' };
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
