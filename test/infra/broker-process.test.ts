// The broker as a process (`npm start`, `npm run broker`), issue 17:
// - point 5: on a port that is taken, one line naming the port and the program holding it, and
//   nothing else: no "listening", no URL, no curl example. The port is held by a plain server in
//   this test process; the running local stack is not touched (start.sh checks the broker's port
//   before it runs up.sh).
// - point 6: NODE_ENV=production without AWS credentials: /readyz names the cause and it is logged.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenFailure, portHolder } from '../../server/http/listen-error.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let holder: Server;
let port: number;
// The holder is this test process: named by its argv[0], as `ps` shows it.
const argv0 = readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0')[0];

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

const expected = () =>
  `keyhole: cannot listen on 127.0.0.1:${port}: port ${port} is already in use by ${argv0} (pid ${process.pid}); ` +
  'stop it, or choose another port with PORT';

const env = () => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  PORT: String(port),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

describe('a broker port that is taken', () => {
  it('portHolder finds this process by the listening socket', () => {
    expect(portHolder(port)).toEqual({ pid: process.pid, name: argv0 });
  });

  it('npm start: exactly the one line, exit 1, before the local stack is even looked at', () => {
    const run = spawnSync('bash', ['infra/local/start.sh'], {
      cwd: repo,
      env: env(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `${expected()}\n`,
    });
  });

  it('the broker itself (the port taken after start.sh looked): the same line, never "listening"', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: repo,
      env: {
        ...env(),
        KEYHOLE_DEV_LOGIN: '1',
        KEYHOLE_BUCKET: 'uploads',
        KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
        AWS_REGION: 'us-east-1',
        KEYHOLE_LOG_LEVEL: 'error',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `${expected()}\n`,
    });
  });
});

describe('listenFailure', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    [
      'EADDRINUSE',
      { pid: 42, name: 'nginx' },
      'keyhole: cannot listen on 127.0.0.1:8787: port 8787 is already in use by nginx (pid 42); stop it, or choose another port with PORT',
    ],
    [
      'EADDRINUSE',
      undefined,
      'keyhole: cannot listen on 127.0.0.1:8787: port 8787 is already in use; stop it, or choose another port with PORT',
    ],
    [
      'EACCES',
      undefined,
      'keyhole: cannot listen on 127.0.0.1:8787: permission denied (EACCES); choose a port from 1024 up with PORT',
    ],
    [
      'EADDRNOTAVAIL',
      undefined,
      'keyhole: cannot listen on 127.0.0.1:8787: 127.0.0.1 is not an address of this machine (EADDRNOTAVAIL); check KEYHOLE_HOST',
    ],
    ['EMFILE', undefined, 'keyhole: cannot listen on 127.0.0.1:8787: EMFILE'],
  ])('%s', (code, holder, line) => {
    expect(listenFailure('127.0.0.1', 8787, err(code), holder)).toBe(line);
  });
});

describe('NODE_ENV=production with no AWS credentials', () => {
  it('/readyz names "Could not load credentials from any providers", and the broker logs it once', async () => {
    const home = mkdtempSync(join(tmpdir(), 'keyhole-home-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: repo,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        NODE_ENV: 'production',
        PORT: '0',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_REGION: 'us-east-1',
        KEYHOLE_BUCKET: 'uploads',
        KEYHOLE_ROLE_ARN: 'arn:aws:iam::123456789012:role/keyhole-uploader',
        KEYHOLE_JWT_ISSUER: 'https://id.example.com/',
        KEYHOLE_JWT_AUDIENCE: 'keyhole',
        KEYHOLE_JWKS_URL: 'https://id.example.com/jwks.json',
        // Nothing leaves this machine: were credentials found, these would refuse the connection.
        KEYHOLE_STS_ENDPOINT: 'http://127.0.0.1:1',
        KEYHOLE_S3_ENDPOINT: 'http://127.0.0.1:1',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line: ${out}`)), 40_000);
        child.stdout.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          error: { code: 'sts_error', message: 'STS AssumeRole failed: Could not load credentials from any providers' },
        });
      }
      const logged = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.filter((l) => l.event === 'vendor.unready')).toEqual([
        expect.objectContaining({ cause: 'Could not load credentials from any providers', code: 'sts_error' }),
      ]);
      expect(logged.find((l) => l.event === 'bucket.unsafe')?.detail).toBe(
        'bucket "uploads": cannot read its Block Public Access settings (CredentialsProviderError: Could not load credentials from any providers)',
      );
    } finally {
      child.kill();
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
