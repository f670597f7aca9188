// Issue 13: `keyhole/lambda` driven with HTTP API (payload format 2.0) events against the local
// Ceph RGW: health, readiness, credentials and an upload with them, base64 bodies, CORS, bad tokens,
// oversized headers, the client address, cold and warm containers, and the same answers as the
// Express broker over TCP. Finally the esbuild bundle the stack deploys, in a fresh Node process.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleLambda } from '../../infra/aws/bundle.js';
import type { HttpApiEvent, HttpApiResult } from '../../server/lambda/adapter.js';
import { lambdaBroker } from '../../server/lambda/init.js';
import { freshSubject, s3WithIssued } from '../helpers/broker.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';
import { s3Outcome } from '../helpers/s3.js';
import { ownerS3, stack } from '../helpers/stack.js';
import { fixture, functionEnv, httpEvent } from './events.js';

const s = stack();
const APP_ORIGIN = 'https://app.example.com';
const issuer: TestIssuer = await testIssuer('https://issuer.lambda.test/', 'keyhole-lambda');
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** The environment a deployed function would have, pointed at the local RGW. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return functionEnv(issuer, {
    KEYHOLE_CORS_ORIGINS: APP_ORIGIN,
    KEYHOLE_RATE_LIMIT_SUBJECT: 'off',
    KEYHOLE_RATE_LIMIT_ADDRESS: 'off',
    ...extra,
  });
}

/** One Lambda container: the broker built once, its audit log captured. */
function container(extra: Record<string, string> = {}) {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const broker = lambdaBroker(env(extra), { logDestination: sink });
  const vendor = (broker.app.locals.keyhole as { vendor: { upstreamCalls(): number } }).vendor;
  return { ...broker, logs, stsCalls: () => vendor.upstreamCalls() };
}

const json = (r: HttpApiResult) => JSON.parse(r.body) as any;
const header = (r: HttpApiResult, name: string) =>
  Object.entries(r.headers).find(([k]) => k.toLowerCase() === name)?.[1];

function credentialsEvent(token: string, sourceIp = '198.51.100.23', extraHeaders: Record<string, string> = {}) {
  const event = fixture('credentials', { TOKEN: token, SOURCE_IP: sourceIp });
  return { ...event, headers: { ...event.headers, ...extraHeaders } } as HttpApiEvent;
}

describe('the Lambda handler against the local RGW', () => {
  const c = container();

  it('GET /healthz and GET /readyz answer as the broker does', async () => {
    const health = await c.handler(fixture('healthz', { SOURCE_IP: '192.0.2.10' }));
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ status: 'ok' });
    expect(header(health, 'x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(header(health, 'cache-control')).toBe('no-store');
    expect(header(health, 'content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    expect(header(health, 'date')).toMatch(/GMT$/);
    const ready = await c.handler(httpEvent('GET', '/readyz'));
    expect(ready.statusCode, ready.body).toBe(200);
    expect(json(ready)).toMatchObject({ status: 'ready', vendor: 'sts' });
  });

  it('POST /v1/credentials vends credentials that upload to the caller\u2019s prefix and nowhere else', async () => {
    const sub = freshSubject('lambda');
    const result = await c.handler(credentialsEvent(await issuer.sign({ sub })));
    expect(result.statusCode, result.body).toBe(200);
    expect(header(result, 'cache-control')).toBe('no-store');
    const body = json(result);
    expect(body).toMatchObject({
      bucket: s.bucket,
      prefix: `users/${sub}/`,
      access: ['read', 'write', 'list', 'delete'],
    });
    const s3 = s3WithIssued(body);
    const key = `${body.prefix}hello.txt`;
    expect(
      await s3Outcome(s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: 'from a Lambda credential' }))),
    ).toBe('OK');
    expect(
      await s3Outcome(s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: `users/not-${sub}/x.txt`, Body: 'x' }))),
    ).toBe('403 AccessDenied');
    const read = await ownerS3().send(new GetObjectCommand({ Bucket: s.bucket, Key: key }));
    expect(await read.Body!.transformToString()).toBe('from a Lambda credential');
    cleanups.push(() => ownerS3().send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key })));
  });

  it('reads a base64 body (isBase64Encoded) exactly like a plain one', async () => {
    const sub = freshSubject('lambda-b64');
    const token = await issuer.sign({ sub });
    const payload = JSON.stringify({ access: ['read', 'list'] });
    const event = fixture('credentials-base64-body', {
      TOKEN: token,
      SOURCE_IP: '198.51.100.24',
      BODY_LENGTH: String(payload.length),
      BODY_BASE64: Buffer.from(payload).toString('base64'),
    });
    const result = await c.handler(event);
    expect(result.statusCode, result.body).toBe(200);
    expect(json(result).access).toEqual(['read', 'list']);
    const readOnly = s3WithIssued(json(result));
    expect(
      await s3Outcome(readOnly.send(new PutObjectCommand({ Bucket: s.bucket, Key: `users/${sub}/w.txt`, Body: 'x' }))),
    ).toBe('403 AccessDenied');
    const broken = await c.handler({ ...event, body: Buffer.from('{"access":').toString('base64') });
    expect(broken.statusCode).toBe(400);
    expect(json(broken).error.code).toBe('malformed_body');
  });

  it('answers CORS preflights for the configured origin only', async () => {
    const allowed = await c.handler(fixture('preflight', { ORIGIN: APP_ORIGIN, SOURCE_IP: '192.0.2.11' }));
    expect(allowed.statusCode).toBe(204);
    expect(header(allowed, 'access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(header(allowed, 'access-control-allow-methods')).toBe('POST,GET');
    expect(header(allowed, 'access-control-allow-headers')).toBe('Authorization,Content-Type');
    expect(header(allowed, 'access-control-max-age')).toBe('600');
    const refused = await c.handler(fixture('preflight', { ORIGIN: 'https://evil.example', SOURCE_IP: '192.0.2.11' }));
    expect(header(refused, 'access-control-allow-origin')).toBeUndefined();
    // A real request from another origin is answered, but without the header a browser needs to read it.
    const token = await issuer.sign({ sub: freshSubject('cors') });
    const cross = await c.handler(credentialsEvent(token, '192.0.2.12', { origin: 'https://evil.example' }));
    expect(header(cross, 'access-control-allow-origin')).toBeUndefined();
  });

  it('refuses bad tokens with the broker\u2019s JSON errors, before any STS call', async () => {
    const before = c.stsCalls();
    const other = await testIssuer(issuer.issuer, issuer.audience);
    const cases: [string | undefined, string][] = [
      [undefined, 'missing_token'],
      ['not.a.jwt', 'malformed_token'],
      [await other.sign({ sub: 'mallory' }), 'invalid_signature'],
      [await issuer.sign({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) - 3600 }), 'token_expired'],
    ];
    for (const [token, code] of cases) {
      const event = credentialsEvent(token ?? '');
      if (token === undefined) delete (event.headers as Record<string, string>).authorization;
      const result = await c.handler(event);
      expect(result.statusCode, code).toBe(401);
      expect(json(result).error.code).toBe(code);
      expect(header(result, 'cache-control')).toBe('no-store');
    }
    expect(c.stsCalls()).toBe(before);
  });

  it('an oversized token is 401 token_too_large, an oversized header section 431, as over TCP', async () => {
    const huge = credentialsEvent(`h.${'a'.repeat(9000)}.s`);
    const tooLarge = await c.handler(huge);
    expect(tooLarge.statusCode).toBe(401);
    expect(json(tooLarge).error.code).toBe('token_too_large');
    const overflow = await c.handler(httpEvent('GET', '/healthz', { headers: { 'x-padding': 'p'.repeat(20_000) } }));
    expect(overflow.statusCode).toBe(431);
  });

  it('answers as the Express broker does over TCP (status, error code, header names)', async () => {
    const server = c.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const token = await issuer.sign({ sub: freshSubject('same') });
    const requests: [string, string, Record<string, string>, string?][] = [
      ['GET', '/healthz', {}],
      ['GET', '/nowhere', {}],
      ['POST', '/v1/credentials', { authorization: 'Bearer x' }],
      ['POST', '/v1/credentials', { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, 'hi'],
      [
        'POST',
        '/v1/credentials',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        '{"access":["fly"]}',
      ],
      [
        'POST',
        '/v1/credentials',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        'x'.repeat(4096),
      ],
      ['OPTIONS', '/v1/credentials', { origin: APP_ORIGIN, 'access-control-request-method': 'POST' }],
      ['GET', '/healthz', { 'x-padding': 'p'.repeat(20_000) }],
    ];
    for (const [method, path, headers, body] of requests) {
      const tcp = await overTcp(port, method, path, headers, body);
      const lambda = await c.handler(httpEvent(method, path, { headers, ...(body ? { body } : {}) }));
      const label = `${method} ${path} ${JSON.stringify(headers).slice(0, 80)}`;
      expect(lambda.statusCode, label).toBe(tcp.status);
      expect(lambda.body === '' ? undefined : json(lambda).error?.code, label).toBe(
        tcp.body === '' ? undefined : JSON.parse(tcp.body).error?.code,
      );
      const names = (h: Record<string, unknown>) =>
        Object.keys(h)
          .map((k) => k.toLowerCase())
          .filter((k) => !['connection', 'keep-alive', 'transfer-encoding'].includes(k))
          .sort();
      expect(names(lambda.headers), label).toEqual(names(tcp.headers));
    }
  });
});

function overTcp(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the client address is requestContext.http.sourceIp, never X-Forwarded-For', () => {
  it('binds credentials to sourceIp (KEYHOLE_BIND_SOURCE_IP=on) and audits it, whatever X-Forwarded-For says', async () => {
    const c = container({ KEYHOLE_BIND_SOURCE_IP: 'on' });
    // The uploads below come from 127.0.0.1: they work only with credentials bound to 127.0.0.1.
    const honest = freshSubject('bound');
    const spoofer = freshSubject('spoof');
    const viaLoopback = await c.handler(
      credentialsEvent(await issuer.sign({ sub: honest }), '127.0.0.1', { 'x-forwarded-for': '203.0.113.50' }),
    );
    const viaRemote = await c.handler(
      credentialsEvent(await issuer.sign({ sub: spoofer }), '198.51.100.7', { 'x-forwarded-for': '127.0.0.1' }),
    );
    expect(viaLoopback.statusCode, viaLoopback.body).toBe(200);
    expect(viaRemote.statusCode, viaRemote.body).toBe(200);
    const put = (body: any) =>
      s3Outcome(
        s3WithIssued(body).send(new PutObjectCommand({ Bucket: s.bucket, Key: `${body.prefix}bound.txt`, Body: 'x' })),
      );
    expect(await put(json(viaLoopback))).toBe('OK');
    expect(await put(json(viaRemote))).toBe('403 AccessDenied');
    const issued = c.logs.filter((l) => l.event === 'credentials.issued');
    expect(issued.map((l) => [l.ip, l.sourceIp])).toEqual([
      ['127.0.0.1', '127.0.0.1/32'],
      ['198.51.100.7', '198.51.100.7/32'],
    ]);
  });

  it('refuses KEYHOLE_TRUST_PROXY and dev login in a Lambda, naming the variable', () => {
    expect(() => lambdaBroker(env({ KEYHOLE_TRUST_PROXY: '1' }))).toThrow(/^KEYHOLE_TRUST_PROXY: must be unset/);
    expect(() => lambdaBroker(env({ KEYHOLE_DEV_LOGIN: '1', KEYHOLE_JWT_ISSUER: '' }))).toThrow(/^KEYHOLE_DEV_LOGIN:/);
    expect(() => lambdaBroker(env({ KEYHOLE_WEB_DIR: 'client/web/dist' }))).toThrow(/^KEYHOLE_WEB_DIR:/);
    expect(() => lambdaBroker(env({ KEYHOLE_DURATION_SECONDS: '60' }))).toThrow(/KEYHOLE_DURATION_SECONDS/);
  });
});

describe('cold and warm invocations', () => {
  it('builds the broker once per container: the second request reuses its credential cache', async () => {
    const sub = freshSubject('warm');
    const token = await issuer.sign({ sub });
    const a = container();
    const t0 = performance.now();
    const first = await a.handler(credentialsEvent(token));
    const t1 = performance.now();
    const second = await a.handler(credentialsEvent(token));
    const t2 = performance.now();
    expect(first.statusCode).toBe(200);
    expect(json(second).credentials).toEqual(json(first).credentials);
    expect(a.stsCalls()).toBe(1);
    expect(a.logs.filter((l) => l.event === 'credentials.issued').map((l) => l.cached)).toEqual([false, true]);
    // A new container (cold start) has its own, empty cache.
    const b = container();
    const third = await b.handler(credentialsEvent(token));
    expect(b.stsCalls()).toBe(1);
    expect(json(third).credentials.accessKeyId).not.toBe(json(first).credentials.accessKeyId);
    console.log(
      `lambda handler: first request ${(t1 - t0).toFixed(1)} ms (STS), warm ${(t2 - t1).toFixed(1)} ms (cache)`,
    );
  });

  it('the module entry (keyhole/lambda) initialises at import, once, from process.env', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, env({ KEYHOLE_LOG_LEVEL: 'silent' }));
    try {
      const first = await import('../../server/lambda/index.js');
      const again = await import('../../server/lambda/index.js');
      expect(again.handler).toBe(first.handler);
      const result = await first.handler(fixture('healthz', { SOURCE_IP: '192.0.2.1' }));
      expect(result.statusCode).toBe(200);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});

describe('the bundle the stack deploys (esbuild, infra/aws/bundle.ts)', () => {
  it('runs in a fresh Node process: health, credentials and a cache hit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-lambda-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const bundle = bundleLambda(join(dir, 'bundle'));
    const token = await issuer.sign({ sub: freshSubject('bundle') });
    const events = [fixture('healthz', { SOURCE_IP: '192.0.2.2' }), credentialsEvent(token), credentialsEvent(token)];
    const script = `
      const { handler } = await import(${JSON.stringify(bundle.file)});
      const out = [];
      for (const e of JSON.parse(process.env.EVENTS)) { const r = await handler(e); out.push([r.statusCode, JSON.parse(r.body)]); }
      process.stdout.write(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, ...env({ KEYHOLE_LOG_LEVEL: 'silent' }), EVENTS: JSON.stringify(events) },
      timeout: 30_000,
    });
    const [health, cold, warm] = JSON.parse(stdout) as [number, any][];
    expect(health).toEqual([200, { status: 'ok' }]);
    expect(cold![0]).toBe(200);
    expect(warm![1].credentials).toEqual(cold![1].credentials);
    expect(bundle.bytes).toBeLessThan(4 * 1024 * 1024);
  });
});
