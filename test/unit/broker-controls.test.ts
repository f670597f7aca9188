// The broker's HTTP controls with a fake vendor (no STS, no RGW): the credential cache with the
// cache on (what makes two requests "the same"), Retry-After, error bodies without stack traces,
// and CORS. Each is a second guard, independent of the RGW suites in test/security and
// test/integration.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBroker, createLogger, type BrokerOptions } from '../../server/index.js';
import { fakeVendor, type FakeVendor } from '../helpers/fake-vendor.js';
import { testIssuer } from '../helpers/jwt.js';

interface Running {
  url: string;
  vendor: FakeVendor;
  logs: Record<string, unknown>[];
  raw: () => string;
  devToken(sub: string): Promise<string>;
  post(token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}
const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((b) => b.close()));
  vi.useRealTimers();
});

async function start(overrides: Partial<BrokerOptions> = {}, vendor = fakeVendor()): Promise<Running> {
  let raw = '';
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      raw += String(chunk);
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const app = createBroker({
    grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
    region: 'us-east-1',
    devLogin: true,
    rateLimit: false,
    logger: createLogger('info', sink),
    vendor,
    ...overrides,
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b: Running = {
    url,
    vendor,
    logs,
    raw: () => raw,
    async devToken(sub) {
      const res = await fetch(`${url}/v1/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    post(token, body, headers = {}) {
      return fetch(`${url}/v1/credentials`, {
        method: 'POST',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  running.push(b);
  return b;
}

const issued = (b: Running) => b.logs.filter((l) => l.event === 'credentials.issued');

describe('credential cache at the broker (cache on, fake vendor)', () => {
  it('identical requests share one issue; the second answer is marked cached in the audit log', async () => {
    const b = await start();
    const token = await b.devToken('alice');
    const first = (await (await b.post(token)).json()) as any;
    const second = (await (await b.post(token)).json()) as any;
    expect(second.credentials.accessKeyId).toBe(first.credentials.accessKeyId);
    expect(b.vendor.seen).toHaveLength(1);
    expect(issued(b).map((l) => l.cached)).toEqual([false, true]);
  });

  it('a narrower access subset is a different request: new credentials carrying the narrower policy', async () => {
    const b = await start();
    const token = await b.devToken('alice');
    const full = (await (await b.post(token)).json()) as any;
    const read = (await (await b.post(token, { access: ['read'] })).json()) as any;
    expect(read.access).toEqual(['read']);
    expect(read.credentials.accessKeyId).not.toBe(full.credentials.accessKeyId);
    expect(b.vendor.seen).toHaveLength(2);
    const allows = (policy: string) =>
      JSON.parse(policy).Statement.filter((s: { Effect: string }) => s.Effect === 'Allow');
    expect(allows(b.vendor.seen[1]!.policy)).toEqual([expect.objectContaining({ Action: ['s3:GetObject'] })]);
    // And back: full access again is the cached full-access answer, not the read-only one.
    const again = (await (await b.post(token)).json()) as any;
    expect(again.credentials.accessKeyId).toBe(full.credentials.accessKeyId);
  });

  it('two subjects sharing one literal prefix get their own sessions', async () => {
    const b = await start({
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'shared/team1/', access: ['read', 'write'] }] }],
    });
    const alice = (await (await b.post(await b.devToken('alice'))).json()) as any;
    const bob = (await (await b.post(await b.devToken('bob'))).json()) as any;
    expect(bob.prefix).toBe(alice.prefix);
    expect(bob.credentials.accessKeyId).not.toBe(alice.credentials.accessKeyId);
    expect(b.vendor.seen.map((r) => r.subject)).toEqual(['alice', 'bob']);
    expect(b.vendor.seen[0]!.sessionName).not.toBe(b.vendor.seen[1]!.sessionName);
    const [la, lb] = issued(b);
    expect(lb!.sessionName).not.toBe(la!.sessionName);
    expect([la!.cached, lb!.cached]).toEqual([false, false]);
  });

  it('one subject at two issuers, on a shared literal prefix, gets two sessions', async () => {
    const one = await testIssuer('https://one.example/');
    const two = await testIssuer('https://two.example/');
    const b = await start({
      devLogin: false,
      issuers: [one, two].map((i) => ({ issuer: i.issuer, audience: i.audience, publicKey: i.publicKeyPem })),
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'shared/team1/', access: ['read'] }] }],
    });
    const fromOne = (await (await b.post(await one.sign({ sub: 'alice' }))).json()) as any;
    const fromTwo = (await (await b.post(await two.sign({ sub: 'alice' }))).json()) as any;
    expect(fromTwo.prefix).toBe(fromOne.prefix);
    expect(fromTwo.credentials.accessKeyId).not.toBe(fromOne.credentials.accessKeyId);
    expect(b.vendor.seen).toHaveLength(2);
  });

  it('a claim change that selects another grant rule gets credentials for the new rule', async () => {
    const idp = await testIssuer();
    const b = await start({
      devLogin: false,
      issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
      grants: [
        { when: { team: 'red' }, bucket: 'uploads', scopes: [{ prefix: 'teams/red/{sub}/', access: ['read'] }] },
        { when: { team: 'blue' }, bucket: 'uploads', scopes: [{ prefix: 'teams/blue/{sub}/', access: ['read'] }] },
      ],
    });
    const red = (await (await b.post(await idp.sign({ sub: 'alice', team: 'red' }))).json()) as any;
    const blue = (await (await b.post(await idp.sign({ sub: 'alice', team: 'blue' }))).json()) as any;
    expect(blue.prefix).not.toBe(red.prefix);
    expect(blue.credentials.accessKeyId).not.toBe(red.credentials.accessKeyId);
    expect(b.vendor.seen[1]!.policy).toContain(blue.prefix);
    expect(b.vendor.seen[1]!.policy).not.toContain(red.prefix);
  });

  it('past half its lifetime a cached answer is replaced (fake Date, 900 s credentials)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const b = await start(); // the cache reads the (fake) clock from here on
    const token = await b.devToken('alice');
    const first = (await (await b.post(token)).json()) as any;
    vi.setSystemTime(Date.now() + 440_000); // ~460 s left: still reused
    const reused = (await (await b.post(token)).json()) as any;
    expect(reused.credentials.accessKeyId).toBe(first.credentials.accessKeyId);
    vi.setSystemTime(Date.now() + 20_000); // < 450 s left
    const renewed = (await (await b.post(token)).json()) as any;
    expect(renewed.credentials.accessKeyId).not.toBe(first.credentials.accessKeyId);
    expect(issued(b).map((l) => l.cached)).toEqual([false, true, false]);
  });

  it('credentialCache: false issues every time', async () => {
    const b = await start({ credentialCache: false });
    const token = await b.devToken('alice');
    await b.post(token);
    await b.post(token);
    expect(b.vendor.seen).toHaveLength(2);
  });
});

describe('Retry-After on 429 (fake vendor)', () => {
  it('carries the same whole seconds as the message, and is exposed to browsers', async () => {
    const b = await start({
      rateLimit: { perSubject: { limit: 1, windowSeconds: 30 }, perAddress: false },
      corsOrigins: ['https://app.example.com'],
    });
    const token = await b.devToken('alice');
    expect((await b.post(token)).status).toBe(200);
    const limited = await b.post(token, undefined, { origin: 'https://app.example.com' });
    expect(limited.status).toBe(429);
    const retryAfter = limited.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({
      error: { code: 'rate_limited', message: `too many requests for this subject; retry in ${retryAfter} s` },
    });
    expect(limited.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });

  it('no Retry-After on other refusals', async () => {
    const b = await start();
    const res = await b.post('garbage');
    expect(res.status).toBe(401);
    expect(res.headers.get('retry-after')).toBe(null);
  });
});

describe('error answers never carry a stack trace (fake vendor)', () => {
  const STACK = /\bat\s+\S+\s+\(|\.(ts|js):\d+|node_modules|\/srv\//;

  it.each([
    ['issue throws an Error', { issue: () => Promise.reject(new Error('boom at /srv/keyhole/x.ts:1:2')) }],
    ['issue throws a string', { issue: () => Promise.reject('raw string /srv/app.js:9') }],
    [
      'issue throws an object with a stack',
      { issue: () => Promise.reject({ stack: 'Error\n    at f (/srv/a.js:1:1)', message: 'm' }) },
    ],
  ])('%s: 500 {code: internal_error, message: internal error}, logged with its stack', async (_l, o) => {
    const b = await start({}, fakeVendor(o as never));
    const res = await b.post(await b.devToken('alice'));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(text).not.toMatch(STACK);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(b.logs.some((l) => l.event === 'request.crashed')).toBe(true);
  });

  it('identityIdFor crashing is the same opaque 500', async () => {
    const vendor = { ...fakeVendor(), identityIdFor: () => Promise.reject(new TypeError('x is undefined')) };
    const b = await start({}, vendor as never);
    const res = await b.post(await b.devToken('alice'));
    expect([res.status, await res.json()]).toEqual([
      500,
      { error: { code: 'internal_error', message: 'internal error' } },
    ]);
  });

  it('refusals carry only {code, message}, whatever the cause', async () => {
    const b = await start({ maxBodyBytes: 64 });
    const token = await b.devToken('alice');
    for (const res of [
      await b.post(token, { access: ['read'], pad: 'x'.repeat(100) }),
      await fetch(`${b.url}/v1/credentials`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"access":',
      }),
      await b.post(undefined),
      await fetch(`${b.url}/nope`),
    ]) {
      const text = await res.text();
      const body = JSON.parse(text);
      expect(Object.keys(body)).toEqual(['error']);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
      expect(text).not.toMatch(STACK);
    }
  });
});

describe('CORS (fake vendor)', () => {
  it('the allowed origin gets its own origin back on the POST itself, with the exposed headers', async () => {
    const b = await start({ corsOrigins: ['https://app.example.com', 'http://localhost:5173'] });
    const token = await b.devToken('alice');
    for (const origin of ['https://app.example.com', 'http://localhost:5173']) {
      const res = await b.post(token, undefined, { origin });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe(null);
      expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After,X-Request-Id,Date');
    }
  });

  it('no other origin gets a CORS grant, not even on an error answer', async () => {
    const b = await start({ corsOrigins: ['https://app.example.com'] });
    const token = await b.devToken('alice');
    for (const origin of ['https://evil.example', 'https://app.example.com:444', 'null', 'https://APP.example.com.x']) {
      const ok = await b.post(token, undefined, { origin });
      expect(ok.headers.get('access-control-allow-origin')).toBe(null);
      const bad = await b.post('garbage', undefined, { origin });
      expect(bad.headers.get('access-control-allow-origin')).toBe(null);
    }
  });

  it('with no corsOrigins (the default), no origin is allowed', async () => {
    const b = await start();
    const res = await fetch(`${b.url}/v1/credentials`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe(null);
  });
});
