// Issue 13: the AWS stack's deploy settings (infra/aws/settings.ts), its IAM helpers
// (infra/aws/policies.ts) and the revocation statements (infra/aws/revoke.ts), without synthesizing.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/aws/bundle.js';
import { brokerTrustActions, cognitoPrefix, cognitoRolePermissions } from '../../infra/aws/policies.js';
import {
  mergeRevocations,
  revokeIssuedBefore,
  revokeSession,
  sessionNameOf,
  type RevocationPolicy,
} from '../../infra/aws/revoke.js';
import { readSettings } from '../../infra/aws/settings.js';
import { DEV_ISSUER } from '../../server/auth/dev-login.js';
import { sessionNameFor } from '../../server/policy/session-name.js';

describe('deploy settings (KEYHOLE_AWS_ENV_FILE, else infra/aws/example.env)', () => {
  it('reads the example with no configuration at all', () => {
    const s = readSettings({});
    expect(s).toMatchObject({
      example: true,
      stackName: 'Keyhole',
      corsOrigins: ['https://app.example.com'],
      durationSeconds: 900,
      prefixTemplate: 'users/{sub}/',
      versioned: false,
      retainData: true,
      logRetentionDays: 30,
      throttle: { rateLimit: 50, burstLimit: 100 },
      memoryMb: 512,
      cognito: undefined,
    });
    expect(Object.keys(s.brokerEnv).sort()).toEqual([
      'KEYHOLE_ACCESS',
      'KEYHOLE_CORS_ORIGINS',
      'KEYHOLE_DURATION_SECONDS',
      'KEYHOLE_JWKS_URL',
      'KEYHOLE_JWT_AUDIENCE',
      'KEYHOLE_JWT_ISSUER',
      'KEYHOLE_LOG_LEVEL',
      'KEYHOLE_PREFIX_TEMPLATE',
    ]);
  });

  it('lets the environment win over the file, and ignores the rest of the shell', () => {
    const s = readSettings({
      KEYHOLE_CORS_ORIGINS: 'https://a.example,https://b.example',
      HOME: '/root',
      PATH: '/bin',
    });
    expect(s.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(s.brokerEnv.HOME).toBeUndefined();
  });

  it.each([
    ['KEYHOLE_BROKER_ACCESS_KEY_ID', 'AKIAEXAMPLE', /never put long-term keys in a Lambda/],
    ['KEYHOLE_STS_ENDPOINT', 'http://127.0.0.1:7480', /AWS endpoints/],
    ['KEYHOLE_BUCKET', 'mine', /the stack creates the bucket/],
    ['KEYHOLE_ROLE_ARN', 'arn:aws:iam::123456789012:role/x', /the stack creates the uploader role/],
    ['KEYHOLE_GRANTS', '[]', /KEYHOLE_PREFIX_TEMPLATE and KEYHOLE_ACCESS/],
    ['KEYHOLE_WEB_DIR', 'client/web/dist', /host client\/web\/dist/],
    ['KEYHOLE_AWS_THROTLE', '1/1', /unknown stack setting/],
    ['KEYHOLE_JWT_ISUER', 'x', /is not a Keyhole variable/],
    ['KEYHOLE_AWS_THROTTLE', 'fast', /RATE\/BURST/],
    ['KEYHOLE_AWS_LOG_RETENTION_DAYS', '31', /CloudWatch Logs accepts/],
    ['KEYHOLE_AWS_COGNITO', 'yes', /off, basic or enhanced/],
  ])('refuses %s=%s, naming it', (name, value, why) => {
    expect(() => readSettings({ [name]: value })).toThrow(new RegExp(`^${name}: `));
    expect(() => readSettings({ [name]: value })).toThrow(why);
  });

  it('reads KEYHOLE_AWS_ENV_FILE; a region in it is refused (Lambda sets it), one in the shell is the deploy\u2019s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-settings-'));
    const file = join(dir, 'prod.env');
    writeFileSync(
      file,
      'KEYHOLE_JWT_ISSUER=https://id.example.org/\nKEYHOLE_JWT_AUDIENCE=app\nKEYHOLE_JWKS_URL=https://id.example.org/jwks\n',
    );
    const s = readSettings({ KEYHOLE_AWS_ENV_FILE: file, AWS_REGION: 'eu-west-1' });
    expect(s).toMatchObject({ example: false, source: file, corsOrigins: [] });
    expect(s.brokerEnv).toEqual({
      KEYHOLE_JWT_ISSUER: 'https://id.example.org/',
      KEYHOLE_JWT_AUDIENCE: 'app',
      KEYHOLE_JWKS_URL: 'https://id.example.org/jwks',
    });
    writeFileSync(file, 'AWS_REGION=eu-west-1\n', { flag: 'a' });
    expect(() => readSettings({ KEYHOLE_AWS_ENV_FILE: file })).toThrow(/^AWS_REGION: must not be set: Lambda sets it/);
    expect(() => readSettings({ KEYHOLE_AWS_ENV_FILE: join(dir, 'missing.env') })).toThrow(
      /^KEYHOLE_AWS_ENV_FILE: cannot read/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [{ KEYHOLE_DEV_LOGIN: '1', KEYHOLE_JWT_ISSUER: '' }, 'KEYHOLE_DEV_LOGIN'],
    [{ KEYHOLE_TRUST_PROXY: '1' }, 'KEYHOLE_TRUST_PROXY'],
    [{ KEYHOLE_DURATION_SECONDS: '60' }, 'KEYHOLE_DURATION_SECONDS'],
    [{ KEYHOLE_CORS_ORIGINS: '*' }, 'KEYHOLE_CORS_ORIGINS'],
    [{ KEYHOLE_AWS_COGNITO: 'enhanced' }, 'KEYHOLE_PREFIX_TEMPLATE'],
  ])('runs the Lambda\u2019s own loader at synth: %j is refused naming %s', (env, name) => {
    expect(() => readSettings(env)).toThrow(name);
  });

  it('takes the Cognito mode from KEYHOLE_AWS_COGNITO', () => {
    const s = readSettings({ KEYHOLE_AWS_COGNITO: 'basic' });
    expect(s.cognito).toBe('basic');
    expect(s.brokerEnv).toMatchObject({ KEYHOLE_COGNITO_MODE: 'basic', KEYHOLE_COGNITO_DEVELOPER_PROVIDER: 'keyhole' });
    expect(() => readSettings({ KEYHOLE_COGNITO_MODE: 'basic' })).toThrow(/^KEYHOLE_COGNITO_MODE: is only used with/);
  });
});

describe('IAM helpers', () => {
  it('trusts exactly what the STS vendor\u2019s request needs', () => {
    expect(brokerTrustActions()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
  });

  it('turns {identityId} into Cognito\u2019s variable and stops before any other placeholder', () => {
    expect(cognitoPrefix('private/{identityId}/')).toBe('private/${cognito-identity.amazonaws.com:sub}/');
    expect(cognitoPrefix('users/{sub}/')).toBe('users/');
    expect(cognitoPrefix('t/{identityId}/{sub}/')).toBe('t/${cognito-identity.amazonaws.com:sub}/');
    expect(cognitoPrefix('shared/')).toBe('shared/');
  });

  it('narrows the Cognito role to the grant\u2019s access', () => {
    const doc = cognitoRolePermissions('b', 'private/{identityId}/', ['read']);
    expect(doc.Statement.map((s) => s.Sid)).toEqual([
      'Objects',
      'NoAcl',
      'NoGrant0',
      'NoGrant1',
      'NoGrant2',
      'NoGrant3',
    ]);
    expect(doc.Statement[0]!.Action).toEqual(['s3:GetObject']);
  });
});

describe('revocation statements', () => {
  it('--before rounds the cutoff up to the second, so a credential issued in that second is revoked too', () => {
    expect(revokeIssuedBefore(new Date('2026-11-22T12:00:00.250Z')).Condition).toEqual({
      DateLessThan: { 'aws:TokenIssueTime': '2026-11-22T12:00:01Z' },
    });
  });

  it('--subject names the broker\u2019s session name for the subject and issuer, dev identities included', () => {
    expect(sessionNameOf('alice', 'https://id.example.com/')).toBe(sessionNameFor('alice', 'https://id.example.com/'));
    expect(sessionNameOf('alice', DEV_ISSUER)).toBe(sessionNameFor('dev-alice', DEV_ISSUER));
    const s = revokeSession(sessionNameOf('alice', 'https://id.example.com/'), new Date('2026-11-22T12:00:00Z'));
    expect(s.Condition.StringLike).toEqual({ 'aws:userid': `*:${sessionNameOf('alice', 'https://id.example.com/')}` });
    expect(s.Sid).toMatch(/^RevokeSession[0-9a-f]{16}$/);
    expect(() => revokeSession('a*b', new Date())).toThrow(/not a session name/);
  });

  it('merges: the same statement is replaced, the latest cutoff kept, expired ones pruned', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const old: RevocationPolicy = {
      Version: '2012-10-17',
      Statement: [
        revokeIssuedBefore(new Date('2026-11-22T11:00:00Z')),
        revokeSession('kh-bob-x', new Date('2026-11-22T01:00:00Z')),
      ],
    };
    const merged = mergeRevocations(old, [revokeIssuedBefore(now), revokeSession('kh-alice-y', now)], now, 3600);
    expect(merged.Statement.map((s) => [s.Sid, s.Condition.DateLessThan['aws:TokenIssueTime']])).toEqual([
      ['RevokeIssuedBefore', '2026-11-22T12:00:00Z'],
      [revokeSession('kh-alice-y', now).Sid, '2026-11-22T12:00:00Z'],
    ]);
    expect(JSON.stringify(merged).length).toBeLessThan(10240);
  });

  it('the command prints its usage and exits 2 without a role and one action', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'infra/aws/revoke.ts', '--before', 'now'], {
      cwd: REPO_ROOT,
    });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--role-name NAME') });
  });
});
