// Dev login signs in anyone as anyone: it must never be on in production. A second guard besides
// the table in config.test.ts: every spelling of "on", and the real entry point refusing to start.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/index.js';

const base = {
  AWS_REGION: 'us-east-1',
  KEYHOLE_BUCKET: 'uploads',
  KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
};

describe('dev login and NODE_ENV=production', () => {
  it.each(['1', 'true'])('KEYHOLE_DEV_LOGIN=%s is refused in production, naming the variable', (value) => {
    let err: unknown;
    try {
      loadConfig({ ...base, KEYHOLE_DEV_LOGIN: value, NODE_ENV: 'production' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('KEYHOLE_DEV_LOGIN: must not be enabled when NODE_ENV=production');
  });

  it.each(['0', 'false'])('KEYHOLE_DEV_LOGIN=%s is fine in production (but then an issuer is needed)', (value) => {
    const config = loadConfig({
      ...base,
      KEYHOLE_DEV_LOGIN: value,
      NODE_ENV: 'production',
      KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
      KEYHOLE_JWT_AUDIENCE: 'keyhole',
      KEYHOLE_JWKS_URL: 'https://id.example.com/jwks.json',
    });
    expect(config.broker.devLogin).toBe(false);
  });

  it.each(['development', 'test', ''])('NODE_ENV=%j allows dev login', (nodeEnv) => {
    expect(loadConfig({ ...base, KEYHOLE_DEV_LOGIN: '1', NODE_ENV: nodeEnv }).broker.devLogin).toBe(true);
  });

  it('the broker process refuses to start: exit 2, one line on stderr, nothing listening', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...base, KEYHOLE_DEV_LOGIN: '1', NODE_ENV: 'production', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'keyhole: invalid configuration: KEYHOLE_DEV_LOGIN: must not be enabled when NODE_ENV=production\n',
    );
  });
});
