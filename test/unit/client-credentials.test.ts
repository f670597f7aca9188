// brokerCredentials against a scripted HTTP server on port 0 that counts requests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError, brokerCredentials, KeyholeClientError } from '../../client/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const servers: import('node:http').Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function fakeBroker(handler: Handler): Promise<{ url: string; count: () => number; auth: string[] }> {
  let n = 0;
  const auth: string[] = [];
  const server = createServer((req, res) => {
    n++;
    auth.push(req.headers.authorization ?? '');
    req.resume();
    req.on('end', () => handler(req, res, n));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n, auth };
}

function grant(expiresInSeconds: number, id = 'AK1') {
  return JSON.stringify({
    credentials: {
      accessKeyId: id,
      secretAccessKey: 'S',
      sessionToken: 'T',
      expiration: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
    },
    bucket: 'b',
    region: 'us-east-1',
    prefix: 'users/alice/',
    identityId: 'alice',
    access: ['read'],
  });
}
const ok =
  (body: string, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
  };

describe('brokerCredentials', () => {
  it('shares one broker request among 25 concurrent callers and caches the result', async () => {
    const broker = await fakeBroker((req, res) => setTimeout(() => ok(grant(900))(req, res), 50));
    const provider = brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt' });
    const all = await Promise.all(Array.from({ length: 25 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(['AK1']));
    await provider();
    expect((await provider.grant()).prefix).toBe('users/alice/');
    expect(broker.count()).toBe(1);
    expect(provider.brokerRequests).toBe(1);
    expect(broker.auth[0]).toBe('Bearer jwt');
  });

  it('refetches when fewer than refreshBeforeSeconds remain, and on forceRefresh', async () => {
    const broker = await fakeBroker((req, res, n) => ok(grant(n === 1 ? 200 : 900, `AK${n}`))(req, res));
    const provider = brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt' });
    expect((await provider()).accessKeyId).toBe('AK1'); // 200 s left < 300 s window
    expect((await provider()).accessKeyId).toBe('AK2');
    expect((await provider()).accessKeyId).toBe('AK2');
    expect((await provider({ forceRefresh: true })).accessKeyId).toBe('AK3');
    expect(broker.count()).toBe(3);
  });

  it('on 401 asks getToken for a fresh token once, then retries', async () => {
    const broker = await fakeBroker((req, res) =>
      req.headers.authorization === 'Bearer fresh'
        ? ok(grant(900))(req, res)
        : res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"error":{"code":"token_expired","message":"the token has expired"}}'),
    );
    const calls: boolean[] = [];
    const provider = brokerCredentials({
      brokerUrl: broker.url,
      getToken: ({ forceRefresh }) => (calls.push(forceRefresh), forceRefresh ? 'fresh' : 'stale'),
    });
    expect((await provider()).accessKeyId).toBe('AK1');
    expect(calls).toEqual([false, true]);
  });

  it('a 403 is not retried and surfaces as a catchable BrokerError with the broker’s code', async () => {
    const broker = await fakeBroker((_req, res) =>
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end('{"error":{"code":"access_not_granted","message":"access not granted: write"}}'),
    );
    const provider = brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt', access: ['write'] });
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({ status: 403, code: 'access_not_granted', message: 'access not granted: write' });
    expect(broker.count()).toBe(1);
  });

  it('retries 503 honouring Retry-After, then succeeds', async () => {
    const broker = await fakeBroker((req, res, n) =>
      n === 1
        ? res
            .writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' })
            .end('{"error":{"code":"sts_unavailable","message":"x"}}')
        : ok(grant(900))(req, res),
    );
    const started = Date.now();
    const provider = brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt' });
    expect((await provider()).accessKeyId).toBe('AK1');
    expect(broker.count()).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('a failing getToken is reported as token_unavailable, not retried, and no broker request is sent', async () => {
    const broker = await fakeBroker(ok(grant(900)));
    let calls = 0;
    const provider = brokerCredentials({
      brokerUrl: broker.url,
      getToken: () => {
        calls++;
        throw new Error('signed out');
      },
    });
    const err = (await provider().catch((e: unknown) => e)) as KeyholeClientError;
    expect(err).toBeInstanceOf(KeyholeClientError);
    expect(err).not.toBeInstanceOf(BrokerError);
    expect([err.code, err.message, (err.cause as Error).message]).toEqual([
      'token_unavailable',
      'getToken() failed: the user is not signed in or the token could not be renewed',
      'signed out',
    ]);
    expect([calls, broker.count()]).toEqual([1, 0]);
  });

  it('gives up after `retries` and reports broker_unreachable with status 0', async () => {
    const provider = brokerCredentials({ brokerUrl: 'http://127.0.0.1:1', getToken: () => 'jwt', retries: 1 });
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({ status: 0, code: 'broker_unreachable' });
    expect(provider.brokerRequests).toBe(2);
  });

  it('shifts expiration onto the local clock when the broker’s Date header differs (skewed device)', async () => {
    // The broker's clock is 1 h ahead of ours: credentials "expiring in 15 min" by its clock
    // expire in 15 min from now on ours too.
    const ahead = new Date(Date.now() + 3600_000);
    const broker = await fakeBroker((_req, res) => {
      const body = JSON.parse(grant(0));
      body.credentials.expiration = new Date(ahead.getTime() + 900_000).toISOString();
      res.writeHead(200, { 'content-type': 'application/json', date: ahead.toUTCString() }).end(JSON.stringify(body));
    });
    const c = await brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt' })();
    const left = c.expiration.getTime() - Date.now();
    expect(left).toBeGreaterThan(895_000 - 2000);
    expect(left).toBeLessThan(905_000);
  });

  it('maxLifetimeSeconds caps the expiration the SDK sees', async () => {
    const broker = await fakeBroker(ok(grant(3600)));
    const c = await brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt', maxLifetimeSeconds: 400 })();
    expect(c.expiration.getTime() - Date.now()).toBeLessThanOrEqual(400_000);
    expect(c.expiration.getTime() - Date.now()).toBeGreaterThan(395_000);
  });

  it('clear() forgets cached credentials and ignores a fetch that was in flight', async () => {
    const broker = await fakeBroker((req, res, n) => setTimeout(() => ok(grant(900, `AK${n}`))(req, res), 30));
    const provider = brokerCredentials({ brokerUrl: broker.url, getToken: () => 'jwt' });
    const first = provider();
    provider.clear();
    expect((await first).accessKeyId).toBe('AK1');
    expect((await provider()).accessKeyId).toBe('AK2');
  });

  it.each([
    [
      { brokerUrl: 'not a url', getToken: (): string => 't' },
      TypeError,
      'options.brokerUrl must be an absolute URL such as "https://auth.example.com"',
    ],
    [
      { brokerUrl: 'https://a.example', getToken: 'jwt' },
      TypeError,
      'options.getToken must be a function returning the user’s JWT',
    ],
    [
      { brokerUrl: 'https://a.example', getToken: (): string => 't', access: ['own'] },
      TypeError,
      'options.access must be a non-empty array of "read", "write", "list", "delete"',
    ],
    [
      { brokerUrl: 'https://a.example', getToken: (): string => 't', retries: 11 },
      RangeError,
      'options.retries must be an integer from 0 to 10',
    ],
    [
      { brokerUrl: 'https://a.example', getToken: (): string => 't', maxLifetimeSeconds: 0 },
      RangeError,
      'options.maxLifetimeSeconds must be a number > 0',
    ],
  ])('rejects bad options: %j', (options, type, message) => {
    expect(() => brokerCredentials(options as never)).toThrow(type);
    expect(() => brokerCredentials(options as never)).toThrow(message);
  });
});
