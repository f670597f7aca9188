// The CORS allow-list takes exact origins only, as the browser sends them: "*" and paths are refused
// at startup, by the library options and by the configuration loader, each naming its option.
// (The library half moved here from test/security/abuse-controls.test.ts: it needs no local stack.)
import { describe, expect, it } from 'vitest';
import { createBroker } from '../../server/broker.js';
import { parseConfig } from '../../server/config.js';

describe('CORS allow-list entries', () => {
  it('createBroker: entries must be exact origins: "*" and paths are refused at startup', () => {
    const base = {
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read' as const] }] }],
      region: 'eu-west-1',
      devLogin: true,
      vendor: {
        kind: 'x',
        issue: async () => {
          throw new Error('unused');
        },
        identityIdFor: async (x: string) => x,
        ping: async () => {},
        upstreamCalls: () => 0,
      },
    };
    expect(() => createBroker({ ...base, corsOrigins: ['*'] })).toThrow(
      new TypeError('options.corsOrigins entries must be exact origins like "https://app.example.com"; got "*"'),
    );
    expect(() => createBroker({ ...base, corsOrigins: ['https://app.example.com/'] })).toThrow(
      new TypeError(
        'options.corsOrigins entries must be exact origins like "https://app.example.com"; got "https://app.example.com/"',
      ),
    );
  });

  const env = {
    KEYHOLE_DEV_LOGIN: '1',
    KEYHOLE_BUCKET: 'uploads',
    KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
    AWS_REGION: 'eu-west-1',
  };

  it.each(['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'https://a.test,*'])(
    'KEYHOLE_CORS_ORIGINS=%j names the variable instead of failing later in the library',
    (value) => {
      const result = parseConfig({ ...env, KEYHOLE_CORS_ORIGINS: value });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.problems.map((p) => p.variable)).toEqual(['KEYHOLE_CORS_ORIGINS']);
    },
  );

  it('accepts exact origins, trimmed, with ports', () => {
    const result = parseConfig({ ...env, KEYHOLE_CORS_ORIGINS: 'https://app.example.com, http://127.0.0.1:5173' });
    expect(result.ok && result.config.broker.corsOrigins).toEqual(['https://app.example.com', 'http://127.0.0.1:5173']);
  });
});
