// POST /v1/credentials is answered without Express for the common requests
// (server/routes/credentials-fast-path.ts). It must be the same route: for every request, the same
// status, headers and body as Express's own route gives, and the same audit line; anything unusual
// is left to Express. The comparison sends each request twice: to /v1/credentials (the fast path)
// and to /v1/credentials?via=express (a query string: Express's router answers).
import { gzipSync } from 'node:zlib';
import { IncomingMessage, request, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, createLogger } from '../../server/index.js';
import { freshSubject } from '../helpers/broker.js';
import { fakeVendor } from '../helpers/fake-vendor.js';
import { testIssuer, type TestIssuer } from '../helpers/jwt.js';

const ORIGIN = 'https://app.example';
const MAX_BODY = 2048;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether Express handled the request (it gives the request its own prototype). */
  viaExpress: boolean;
}

let server: Server;
let url: string;
let idp: TestIssuer;
const logs: Record<string, unknown>[] = [];
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  idp = await testIssuer();
  const app = createBroker({
    issuers: [{ issuer: idp.issuer, audience: idp.audience, publicKey: idp.publicKeyPem }],
    grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write', 'list', 'delete'] }] }],
    region: 'eu-west-1',
    vendor: fakeVendor(),
    bucketCheck: 'accept-risk',
    corsOrigins: [ORIGIN],
    maxBodyBytes: MAX_BODY,
    rateLimit: { perSubject: { limit: 2, windowSeconds: 60 }, perAddress: false },
    logger: createLogger(
      'info',
      new Writable({
        write(chunk, _enc, cb) {
          for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
          cb();
        },
      }),
    ),
  });
  server = createServer((req, res) => {
    seen.push(req);
    app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const before = seen.length;
    const req = request(
      `${url}${path}`,
      { method: options.method ?? 'POST', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            viaExpress: Object.getPrototypeOf(seen[before]) !== IncomingMessage.prototype,
          }),
        );
      },
    );
    req.on('error', reject);
    if (options.chunked) {
      req.setHeader('transfer-encoding', 'chunked');
      req.write(options.body ?? '');
      req.end();
    } else req.end(options.body);
  });
}

const bearer = async (sub = freshSubject('fast')) => `Bearer ${await idp.sign({ sub })}`;
const json = { 'content-type': 'application/json' };

/** What must match between the two paths: everything but the per-request id and the date. */
function comparable(a: Answer) {
  const { date, 'x-request-id': id, ...headers } = a.headers;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(date).toBeDefined();
  return { status: a.status, headers, body: JSON.parse(a.body) as unknown };
}

describe('POST /v1/credentials without Express', () => {
  it('answers the common requests itself', async () => {
    const auth = await bearer(); // 2 a minute: the cases below only one of them gets through
    const cases: Array<Parameters<typeof send>[1]> = [
      { headers: { authorization: auth } },
      { headers: { authorization: auth, 'content-length': '0' } },
      { headers: { authorization: auth, ...json }, body: '{"access":["read"]}' },
      { headers: { authorization: auth, 'content-type': 'application/json; charset=utf-8' }, body: '{}' },
      { headers: { authorization: auth, origin: ORIGIN } },
      { headers: { authorization: 'Bearer not-a-jwt' } },
      { headers: {} },
    ];
    for (const c of cases) expect((await send('/v1/credentials', c)).viaExpress, JSON.stringify(c)).toBe(false);
  });

  it('leaves everything else to Express, which answers as before', async () => {
    const auth = await bearer();
    const cases: Array<[Parameters<typeof send>[0], Parameters<typeof send>[1], number]> = [
      ['/v1/credentials?x=1', { headers: { authorization: auth } }, 200],
      ['/v1/credentials/', { headers: { authorization: auth } }, 200],
      ['/V1/Credentials', { headers: { authorization: auth } }, 200],
      ['/v1/credentials', { method: 'GET', headers: { authorization: auth } }, 404],
      [
        '/v1/credentials',
        { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } },
        204,
      ],
      ['/v1/credentials', { headers: { authorization: auth, origin: 'https://evil.example' } }, 200],
      ['/v1/credentials', { headers: { authorization: auth, 'content-type': 'text/plain' }, body: '{}' }, 415],
      ['/v1/credentials', { headers: { authorization: auth, ...json }, body: ' '.repeat(MAX_BODY + 1) }, 413],
      ['/v1/credentials', { headers: { authorization: auth, ...json }, body: '{}', chunked: true }, 200],
      [
        '/v1/credentials',
        {
          headers: { authorization: auth, ...json, 'content-encoding': 'gzip' },
          body: gzipSync('{"access":["list"]}'),
        },
        200,
      ],
      [
        '/v1/credentials',
        { headers: { authorization: auth, 'content-type': 'application/json; charset=latin1' }, body: '{}' },
        415,
      ],
    ];
    for (const [path, c, status] of cases) {
      const fresh = { ...c, headers: { ...c!.headers } };
      if (fresh.headers.authorization === auth) fresh.headers.authorization = await bearer();
      const a = await send(path, fresh);
      expect([a.viaExpress, a.status], `${path} ${JSON.stringify(c)}`).toEqual([true, status]);
    }
  });

  it('answers exactly as Express does: status, headers, body, for successes and refusals', async () => {
    const auth = await bearer();
    const cases: Array<[string, Parameters<typeof send>[1]]> = [
      ['no body', { headers: { authorization: auth } }],
      ['access asked for', { headers: { authorization: auth, ...json }, body: '{"access":["read","list"]}' }],
      ['a byte-order mark', { headers: { authorization: auth, ...json }, body: '\ufeff{"access":["read"]}' }],
      ['allowed origin', { headers: { authorization: auth, origin: ORIGIN } }],
      ['no token', { headers: {} }],
      ['not a bearer', { headers: { authorization: 'Basic abc' } }],
      ['a bad token', { headers: { authorization: 'Bearer a.b.c' } }],
      ['not JSON', { headers: { authorization: auth, ...json }, body: '{nope' }],
      ['a JSON string', { headers: { authorization: auth, ...json }, body: '"read"' }],
      ['whitespace only', { headers: { authorization: auth, ...json }, body: '   ' }],
      ['unknown access', { headers: { authorization: auth, ...json }, body: '{"access":["admin"]}' }],
      ['unknown field', { headers: { authorization: auth, ...json }, body: '{"acl":"public-read"}' }],
      ['more than granted', { headers: { authorization: auth, ...json }, body: '{"access":[]}' }],
    ];
    for (const [name, c] of cases) {
      // Each pair from its own subject: the subject limit (2 a minute) is not what is compared here.
      const fresh = { ...c, headers: { ...c!.headers } };
      if (fresh.headers.authorization === auth) fresh.headers.authorization = await bearer();
      const express = await send('/v1/credentials?via=express', fresh);
      const fast = await send('/v1/credentials', fresh);
      expect([fast.viaExpress, express.viaExpress], name).toEqual([false, true]);
      expect(comparable(fast), name).toEqual(comparable(express));
    }
  });

  it('a rate-limited caller gets the same 429 and Retry-After from both', async () => {
    const auth = await bearer();
    for (let i = 0; i < 2; i++)
      expect((await send('/v1/credentials', { headers: { authorization: auth } })).status).toBe(200);
    const fast = await send('/v1/credentials', { headers: { authorization: auth } });
    const express = await send('/v1/credentials?via=express', { headers: { authorization: auth } });
    const [f, e] = [comparable(fast), comparable(express)];
    expect(f.status).toBe(429);
    expect(Number(f.headers['retry-after'])).toBeGreaterThan(0);
    expect(Math.abs(Number(f.headers['retry-after']) - Number(e.headers['retry-after']))).toBeLessThanOrEqual(1);
    expect({ ...f, headers: { ...f.headers, 'retry-after': 'n' } }).toEqual({
      ...e,
      headers: { ...e.headers, 'retry-after': 'n' },
    });
  });

  it('audits each request once, with the same fields as Express', async () => {
    const sub = freshSubject('audit');
    const auth = `Bearer ${await idp.sign({ sub })}`;
    const fast = await send('/v1/credentials', { headers: { authorization: auth } });
    const express = await send('/v1/credentials?via=express', { headers: { authorization: auth } });
    const lines = logs.filter((l) => l.sub === sub);
    expect(lines.map((l) => [l.event, l.requestId])).toEqual([
      ['credentials.issued', fast.headers['x-request-id']],
      ['credentials.issued', express.headers['x-request-id']],
    ]);
    const strip = ({ time, requestId, ...rest }: Record<string, unknown>) => (void time, void requestId, rest);
    expect(strip(lines[0]!)).toEqual({ ...strip(lines[1]!), cached: false });
    expect(lines[1]!.cached).toBe(true);
    const refusedBefore = logs.filter((l) => l.event === 'credentials.refused').length;
    await send('/v1/credentials', { headers: {} });
    const refused = logs.filter((l) => l.event === 'credentials.refused').slice(refusedBefore);
    expect(refused).toEqual([expect.objectContaining({ status: 401, code: 'missing_token', ip: '127.0.0.1' })]);
  });
});
