// Serving the web app beside the broker: its own headers, config.json, and everything else
// falling through to the broker untouched. Plus the KEYHOLE_WEB_* settings and their errors.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError } from '../../server/errors.js';
import { webAppFromEnv, withWebApp } from '../../server/http/web-app.js';
import { formatBytes, formatCountdown, formatDuration } from '../../client/format.js';

let dir: string;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keyhole-webapp-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not part of the app');
  const broker = express();
  broker.use((_req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'none'");
    next();
  });
  broker.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  broker.use(
    (req, res) => void res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.path}` } }),
  );
  const app = withWebApp(broker, {
    dir,
    config: {
      devLogin: true,
      oidc: { issuer: 'https://id.example.com', clientId: 'web', scope: 'openid', token: 'id_token' },
    },
    connectOrigins: [
      'http://127.0.0.1:7480/',
      'https://id.example.com/realms/x',
      'https://*.s3.eu-west-1.amazonaws.com',
    ],
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('withWebApp', () => {
  test('serves index.html with a CSP that allows only itself, S3 and the issuer', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('<!doctype html><title>app</title>');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data: blob:;" +
        "connect-src 'self' http://127.0.0.1:7480 https://id.example.com https://*.s3.eu-west-1.amazonaws.com;" +
        "object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'",
    );
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('serves config.json and hashed assets with the right caching', async () => {
    const config = await fetch(`${base}/config.json`);
    expect(config.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await config.json()).toEqual({
      devLogin: true,
      oidc: { issuer: 'https://id.example.com', clientId: 'web', scope: 'openid', token: 'id_token' },
    });
    const asset = await fetch(`${base}/assets/index-abc.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  test('leaves every other path, and every non-GET, to the broker', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(await health.json()).toEqual({ status: 'ok' });
    // Files in the directory that are not part of the app are not served.
    const other = await fetch(`${base}/secret.txt`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: { code: 'not_found', message: 'no route for /secret.txt' } });
    const post = await fetch(`${base}/config.json`, { method: 'POST' });
    expect(post.status).toBe(404);
  });

  test('refuses a directory without index.html', () => {
    expect(() =>
      withWebApp(express(), { dir: '/nonexistent', config: { devLogin: false }, connectOrigins: [] }),
    ).toThrow(new TypeError('options.dir must contain index.html (the built web app); "/nonexistent" does not'));
    expect(() => withWebApp(express(), { dir, config: { devLogin: false }, connectOrigins: ['nope'] })).toThrow(
      new TypeError('options.connectOrigins entries must be origins like "https://s3.example.com"; got "nope"'),
    );
  });
});

describe('webAppFromEnv', () => {
  const broker = { devLogin: false, s3Endpoint: 'http://127.0.0.1:7480', region: 'us-east-1' };

  test('is off without KEYHOLE_WEB_DIR', () => {
    expect(webAppFromEnv({}, broker)).toBeUndefined();
  });

  test('reads OIDC settings and allows the S3 endpoint and issuer', () => {
    expect(
      webAppFromEnv(
        {
          KEYHOLE_WEB_DIR: dir,
          KEYHOLE_WEB_OIDC_ISSUER: 'https://id.example.com/',
          KEYHOLE_WEB_OIDC_CLIENT_ID: 'web',
          KEYHOLE_WEB_CONNECT_SRC: 'https://oauth2.example.net',
        },
        broker,
      ),
    ).toEqual({
      dir,
      config: {
        devLogin: false,
        oidc: { issuer: 'https://id.example.com/', clientId: 'web', scope: 'openid', token: 'id_token' },
      },
      connectOrigins: ['http://127.0.0.1:7480', 'https://id.example.com/', 'https://oauth2.example.net'],
    });
  });

  test('on AWS, allows the regional S3 endpoints', () => {
    expect(webAppFromEnv({ KEYHOLE_WEB_DIR: dir }, { devLogin: true, region: 'eu-west-1' })?.connectOrigins).toEqual([
      'https://s3.eu-west-1.amazonaws.com',
      'https://*.s3.eu-west-1.amazonaws.com',
    ]);
  });

  test.each([
    [
      { KEYHOLE_WEB_DIR: '/nonexistent' },
      'KEYHOLE_WEB_DIR: expected a directory with index.html, such as client/web/dist (got "/nonexistent")',
    ],
    [
      { KEYHOLE_WEB_OIDC_ISSUER: 'https://id.example.com' },
      'KEYHOLE_WEB_OIDC_CLIENT_ID: is required with KEYHOLE_WEB_OIDC_ISSUER',
    ],
    [{ KEYHOLE_WEB_OIDC_CLIENT_ID: 'web' }, 'KEYHOLE_WEB_OIDC_ISSUER: is required with KEYHOLE_WEB_OIDC_CLIENT_ID'],
    [
      { KEYHOLE_WEB_OIDC_ISSUER: 'id.example.com', KEYHOLE_WEB_OIDC_CLIENT_ID: 'web' },
      'KEYHOLE_WEB_OIDC_ISSUER: expected an absolute https URL (got "id.example.com")',
    ],
    [
      {
        KEYHOLE_WEB_OIDC_ISSUER: 'https://id.example.com',
        KEYHOLE_WEB_OIDC_CLIENT_ID: 'web',
        KEYHOLE_WEB_OIDC_TOKEN: 'code',
      },
      'KEYHOLE_WEB_OIDC_TOKEN: expected "id_token" or "access_token" (got "code")',
    ],
    [{ KEYHOLE_WEB_CONNECT_SRC: 'a b' }, 'KEYHOLE_WEB_CONNECT_SRC: expected a comma list of origins (got "a b")'],
  ])('%j is refused', (env, message) => {
    const run = () => webAppFromEnv({ KEYHOLE_WEB_DIR: dir, ...env }, broker);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  test('the broker exits 2 with one line naming KEYHOLE_WEB_DIR', async () => {
    const main = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
    const tsx = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', tsx, main],
        {
          env: {
            PATH: process.env.PATH,
            KEYHOLE_DEV_LOGIN: '1',
            KEYHOLE_BUCKET: 'bucket',
            AWS_REGION: 'us-east-1',
            KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/x',
            KEYHOLE_WEB_DIR: '/nonexistent',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
        (err, _stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
      );
    });
    expect(code).toBe(2);
    expect(stderr).toBe(
      'keyhole: invalid configuration: KEYHOLE_WEB_DIR: expected a directory with index.html, such as client/web/dist (got "/nonexistent")\n',
    );
  });
});

describe('format helpers shared by the web app and the CLI', () => {
  test('sizes, durations and countdowns', () => {
    expect([0, 1023, 1536, 10 * 1024, 21 * 1024 * 1024, 5.5 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '1023 B',
      '1.5 KiB',
      '10 KiB',
      '21 MiB',
      '5.5 GiB',
    ]);
    expect([0.4, 59.6, 65, 3725].map(formatDuration)).toEqual(['0 s', '1 min 00 s', '1 min 05 s', '1 h 02 min']);
    expect([899_999, 61_000, 3_723_000, -5].map(formatCountdown)).toEqual(['14:59', '1:01', '1:02:03', '0:00']);
  });
});
