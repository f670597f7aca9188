// The `keyhole` command reads its settings through the same configuration module as the broker
// (server/config/cli-env.ts): a flag, else the variable, else the broker `npm start` runs.
import { describe, expect, it } from 'vitest';
import { parseInvocation } from '../../client/cli/args.js';
import { cliSettings } from '../../server/config/cli-env.js';
import { DEFAULT_BROKER_URL, DEFAULT_HOST, DEFAULT_PORT } from '../../server/config/formats.js';
import { loadConfig } from '../../server/config.js';

function usageError(argv: string[], env: Record<string, string>): string {
  try {
    parseInvocation(argv, env);
  } catch (err) {
    expect(err).toMatchObject({ code: 'usage', exitCode: 2 });
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('cliSettings', () => {
  it('defaults to the broker npm start runs, on the broker’s own default host and port', () => {
    expect(cliSettings({}, {})).toEqual({
      ok: true,
      settings: { brokerUrl: DEFAULT_BROKER_URL, brokerUrlFrom: 'default', token: undefined },
    });
    const server = loadConfig({
      KEYHOLE_DEV_LOGIN: '1',
      KEYHOLE_BUCKET: 'b-1',
      KEYHOLE_ROLE_ARN: 'arn:aws:iam:::role/r',
      AWS_REGION: 'us-east-1',
    });
    expect(DEFAULT_BROKER_URL).toBe(`http://${server.host}:${server.port}`);
    expect([DEFAULT_HOST, DEFAULT_PORT]).toEqual(['127.0.0.1', 8787]);
  });

  it('a flag wins over its variable, which wins over the default; empty means unset', () => {
    const env = { KEYHOLE_BROKER_URL: 'https://env.example', KEYHOLE_TOKEN: 'env-token' };
    expect(cliSettings(env, {})).toEqual({
      ok: true,
      settings: { brokerUrl: 'https://env.example', brokerUrlFrom: 'KEYHOLE_BROKER_URL', token: 'env-token' },
    });
    expect(cliSettings(env, { broker: 'http://flag.example:1', token: 'flag-token' })).toEqual({
      ok: true,
      settings: { brokerUrl: 'http://flag.example:1', brokerUrlFrom: '--broker', token: 'flag-token' },
    });
    expect(cliSettings({ KEYHOLE_BROKER_URL: '', KEYHOLE_TOKEN: '' }, {})).toEqual({
      ok: true,
      settings: { brokerUrl: DEFAULT_BROKER_URL, brokerUrlFrom: 'default', token: undefined },
    });
  });

  it.each([
    [{ broker: 'ftp://x' }, {}, '--broker', 'ftp://x'],
    [{}, { KEYHOLE_BROKER_URL: 'not a url' }, 'KEYHOLE_BROKER_URL', 'not a url'],
  ])('a bad URL names where it came from: %j %j', (flags, env, variable, got) => {
    expect(cliSettings(env as Record<string, string>, flags as { broker?: string })).toEqual({
      ok: false,
      problems: [{ variable, message: `must be an http(s) URL such as http://127.0.0.1:8787 (got "${got}")` }],
    });
  });
});

describe('parseInvocation uses them', () => {
  it('takes the broker URL and token from the environment', () => {
    const inv = parseInvocation(['ls'], { KEYHOLE_BROKER_URL: 'https://auth.example.com', KEYHOLE_TOKEN: 'jwt' });
    expect(inv).toMatchObject({
      brokerUrl: 'https://auth.example.com',
      brokerUrlFrom: 'KEYHOLE_BROKER_URL',
      auth: { kind: 'token', token: 'jwt' },
    });
  });

  it('reports a bad URL as a usage error naming the flag or the variable', () => {
    expect(usageError(['ls', '--broker', 'ftp://x', '--token', 't'], {})).toBe(
      '--broker must be an http(s) URL such as http://127.0.0.1:8787 (got "ftp://x")',
    );
    expect(usageError(['ls', '--token', 't'], { KEYHOLE_BROKER_URL: 'nope' })).toBe(
      'KEYHOLE_BROKER_URL must be an http(s) URL such as http://127.0.0.1:8787 (got "nope")',
    );
  });

  it('still asks for a sign-in when neither token nor dev login is given', () => {
    expect(usageError(['ls'], { KEYHOLE_TOKEN: '' })).toBe(
      'sign in with --token JWT (or KEYHOLE_TOKEN) or --dev-login NAME',
    );
  });
});
