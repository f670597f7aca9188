// Issue 3, section 5: abuse controls on the broker's HTTP surface. Rate limits per subject and per
// client address (429 + Retry-After), body size (413) and schema (400) limits, the CORS allow-list,
// security headers, no-store, and an audit line for every refusal. Real broker, real RGW.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { stack } from '../helpers/stack.js';

async function call(broker: TestBroker, init: { token?: string; headers?: Record<string, string>; body?: string }) {
  const res = await fetch(`${broker.url}/v1/credentials`, {
    method: 'POST',
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
const refusals = (broker: TestBroker) =>
  broker.logs.filter((l) => l.event === 'credentials.refused').map((l) => ({ status: l.status, code: l.code }));

describe('rate limiting', () => {
  it('per subject: the 4th request in a window is 429 with Retry-After; another subject from the same address is not affected', async () => {
    const broker = await startBroker({ rateLimit: { perSubject: { limit: 3, windowSeconds: 60 }, perAddress: false } });
    try {
      const alice = await broker.token(freshSubject('alice'));
      const stsBefore = broker.vendor.upstreamCalls();
      for (let i = 0; i < 3; i++) expect((await call(broker, { token: alice })).status).toBe(200);
      const limited = await call(broker, { token: alice });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      const retryAfter = Number(limited.headers.get('retry-after'));
      // The sliding-window estimate can need up to two windows to drain (see rate-limit.property.test.ts).
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120).toBe(true);
      expect(limited.body.error.message).toBe(`too many requests for this subject; retry in ${retryAfter} s`);
      expect(limited.headers.get('cache-control')).toBe('no-store');
      // Three identical grants cost one STS call (cache); the refused one costs none.
      expect(broker.vendor.upstreamCalls()).toBe(stsBefore + 1);
      expect((await call(broker, { token: await broker.token(freshSubject('bob')) })).status).toBe(200);
      const audit = broker.logs.filter((l) => l.event === 'credentials.refused');
      expect(audit.map((l) => [l.status, l.code, typeof l.sub])).toEqual([[429, 'rate_limited', 'string']]);
    } finally {
      await broker.close();
    }
  });

  it('per client address: counted before the token is verified, so garbage tokens are limited too', async () => {
    const broker = await startBroker({ rateLimit: { perSubject: false, perAddress: { limit: 2, windowSeconds: 30 } } });
    try {
      expect((await call(broker, { token: await broker.token(freshSubject()) })).status).toBe(200);
      expect((await call(broker, { token: 'garbage' })).body.error.code).toBe('malformed_token');
      const limited = await call(broker, { token: await broker.token(freshSubject()) });
      expect(limited.status).toBe(429);
      expect(limited.body.error.message).toMatch(/^too many requests for this client address; retry in \d+ s$/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      // X-Forwarded-For is ignored unless trustProxy is set, so it cannot be used to dodge the limit.
      const spoofed = await call(broker, { token: 'garbage', headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(spoofed.status).toBe(429);
      expect(refusals(broker)).toEqual([
        { status: 401, code: 'malformed_token' },
        { status: 429, code: 'rate_limited' },
        { status: 429, code: 'rate_limited' },
      ]);
    } finally {
      await broker.close();
    }
  });

  it('behind a trusted proxy, each forwarded client address (an IPv6 /64) has its own budget', async () => {
    const broker = await startBroker({
      trustProxy: 'loopback',
      rateLimit: { perSubject: false, perAddress: { limit: 1, windowSeconds: 60 } },
    });
    try {
      const a = { 'x-forwarded-for': '198.51.100.1' };
      const b = { 'x-forwarded-for': '198.51.100.2' };
      expect((await call(broker, { token: 'x', headers: a })).status).toBe(401);
      expect((await call(broker, { token: 'x', headers: a })).status).toBe(429);
      expect((await call(broker, { token: 'x', headers: b })).status).toBe(401);
      // Two IPv6 addresses in one /64 are one client: rotating the low bits does not buy a new budget.
      expect((await call(broker, { token: 'x', headers: { 'x-forwarded-for': '2001:db8:1:2::a' } })).status).toBe(401);
      expect((await call(broker, { token: 'x', headers: { 'x-forwarded-for': '2001:db8:1:2::b' } })).status).toBe(429);
      expect((await call(broker, { token: 'x', headers: { 'x-forwarded-for': '2001:db8:1:3::a' } })).status).toBe(401);
      expect(broker.logs.filter((l) => l.event === 'credentials.refused').map((l) => l.ip)).toEqual([
        '198.51.100.1',
        '198.51.100.1',
        '198.51.100.2',
        '2001:db8:1:2::a',
        '2001:db8:1:2::b',
        '2001:db8:1:3::a',
      ]);
    } finally {
      await broker.close();
    }
  });
});

describe('request limits, headers and CORS', () => {
  let broker: TestBroker;
  let token: string;
  beforeAll(async () => {
    broker = await startBroker({ corsOrigins: ['https://app.example.com'] });
    token = await broker.token(freshSubject());
  });
  afterAll(() => broker.close());

  it('413 body_too_large above 2048 bytes, audited, without calling STS', async () => {
    const before = broker.vendor.upstreamCalls();
    const res = await call(broker, {
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access: ['read'], pad: 'x'.repeat(2100) }),
    });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'body_too_large', message: 'the request body is too large' } });
    expect(broker.vendor.upstreamCalls()).toBe(before);
    expect(refusals(broker).at(-1)).toEqual({ status: 413, code: 'body_too_large' });
  });

  it.each([
    ['unknown access', { access: ['admin'] }, 'invalid_body', /^access\.0: /],
    ['unknown field', { access: ['read'], bucket: 'other' }, 'invalid_body', /^body: Unrecognized key: "bucket"$/],
    ['empty access', { access: [] }, 'invalid_body', /^access: /],
    ['access not an array', { access: 'read' }, 'invalid_body', /^access: /],
  ])('400 %s (zod), audited', async (_name, body, code, message) => {
    const res = await call(broker, {
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    expect(refusals(broker).at(-1)).toEqual({ status: 400, code });
  });

  it('400 malformed_body for broken JSON and 415 for a non-JSON content type, both audited', async () => {
    const broken = await call(broker, { token, headers: { 'content-type': 'application/json' }, body: '{"access":' });
    expect({ status: broken.status, code: broken.body.error.code }).toEqual({ status: 400, code: 'malformed_body' });
    const text = await call(broker, { token, headers: { 'content-type': 'text/plain' }, body: 'read' });
    expect({ status: text.status, code: text.body.error.code }).toEqual({
      status: 415,
      code: 'unsupported_media_type',
    });
    expect(refusals(broker).slice(-2)).toEqual([
      { status: 400, code: 'malformed_body' },
      { status: 415, code: 'unsupported_media_type' },
    ]);
  });

  it('credentials answers carry no-store and the security headers; no framework banner', async () => {
    const res = await call(broker, { token });
    expect(res.status).toBe(200);
    const h = Object.fromEntries(res.headers);
    expect(h['cache-control']).toBe('no-store');
    expect(h['pragma']).toBe('no-cache');
    expect(h['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['x-frame-options']).toBe('SAMEORIGIN');
    expect(h['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['cross-origin-resource-policy']).toBe('same-site');
    expect(h['x-powered-by']).toBe(undefined);
  });

  it('error answers are no-store JSON too, never a stack trace', async () => {
    const res = await call(broker, { token: 'a.b.c' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({ error: { code: 'malformed_token', message: 'the token is not a well-formed JWT' } });
  });

  it('CORS: the allowed origin gets a preflight answer naming it; any other origin gets no CORS grant', async () => {
    const preflight = (origin: string) =>
      fetch(`${broker.url}/v1/credentials`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toBe('Authorization,Content-Type');
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST,GET');
    expect(ok.headers.get('vary')).toContain('Origin');
    for (const origin of [
      'https://evil.example.com',
      'https://app.example.com.evil.test',
      'null',
      'http://app.example.com',
    ]) {
      const bad = await preflight(origin);
      expect(bad.headers.get('access-control-allow-origin')).toBe(null);
      const post = await fetch(`${broker.url}/v1/credentials`, {
        method: 'POST',
        headers: { origin, authorization: `Bearer ${token}` },
      });
      expect(post.headers.get('access-control-allow-origin')).toBe(null);
    }
  });
});

describe('unexpected failures', () => {
  it('a vendor crash is a 500 JSON answer without a stack, and is still audited as a refusal', async () => {
    const broker = await startBroker({
      vendor: {
        kind: 'crashing',
        identityIdFor: (sub: string) => Promise.resolve(sub.replace(/[^\w-]/g, '_')),
        issue: () => Promise.reject(new Error('secret internals at /srv/keyhole/vendor.ts:42')),
        ping: () => Promise.resolve(),
        upstreamCalls: () => 0,
      },
    });
    try {
      const res = await call(broker, { token: await broker.token(freshSubject()) });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
      expect(refusals(broker)).toEqual([{ status: 500, code: 'internal_error' }]);
    } finally {
      await broker.close();
    }
  });
});

describe('audit log never contains a secret', () => {
  it('no secret key, session token or JWT appears in any log line, at trace level, across issuance and refusals', async () => {
    let raw = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        raw += String(chunk);
        cb();
      },
    });
    const broker = await startBroker({
      logger: createLogger('trace', sink),
      rateLimit: { perSubject: { limit: 2, windowSeconds: 60 }, perAddress: false },
    });
    try {
      const secrets: string[] = [stack().brokerCredentials.secretAccessKey];
      const tokens: string[] = [];
      const sub = freshSubject('audit');
      for (const access of [undefined, ['read'], ['read', 'write']] as const) {
        const token = await broker.token(sub);
        tokens.push(token);
        const res = await call(broker, {
          token,
          ...(access ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access }) } : {}),
        });
        if (res.status === 200) secrets.push(res.body.credentials.secretAccessKey, res.body.credentials.sessionToken);
      }
      const other = await broker.token(freshSubject('audit'));
      tokens.push(other);
      const issued = await call(broker, { token: other });
      secrets.push(issued.body.credentials.secretAccessKey, issued.body.credentials.sessionToken);
      // Refusals of every kind: bad token, bad body, too large, over the limit, refused subject.
      const expired = await broker.token(freshSubject('audit'), { ttlSeconds: 1 });
      tokens.push(expired);
      await call(broker, {
        token: other,
        headers: { 'content-type': 'application/json' },
        body: '{"access":["root"]}',
      });
      const third = await broker.token(freshSubject('audit'));
      tokens.push(third);
      await call(broker, { token: third, headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5000) });
      await call(broker, { token: await broker.token(' ') });
      await call(broker, { token: tokens[0]!.slice(0, -4) + 'AAAA' });
      const lines = raw
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.event === 'credentials.issued')).toHaveLength(3);
      expect(lines.filter((l) => l.event === 'credentials.refused').map((l) => l.code)).toEqual([
        'rate_limited',
        'invalid_body',
        'body_too_large',
        'unsupported_subject',
        'invalid_signature',
      ]);
      expect(secrets.length).toBeGreaterThanOrEqual(5);
      for (const secret of secrets) expect(raw).not.toContain(secret);
      for (const token of tokens) {
        for (const part of token.split('.')) expect(raw).not.toContain(part);
      }
      expect(raw).not.toMatch(/"(secretAccessKey|sessionToken|authorization|token)":"(?!\[redacted\])/i);
    } finally {
      await broker.close();
    }
  });
});
