// STS throttling and 5xx, injected by a small HTTP fault proxy in front of the real RGW STS: the
// broker answers 503 sts_unavailable with Retry-After, and keyhole/client backs off for that long
// and succeeds once STS recovers. With Redis shared state the same holds, and the failed miss does
// not leave other instances waiting for a lock.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials } from '../../client/index.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { sharedStateOn, startRedis, type TestRedis } from '../helpers/redis.js';
import { stack, stackVendor } from '../helpers/stack.js';

/** Forwards to RGW's STS, or answers 503 ServiceUnavailable for the next `failNext` requests. */
function faultProxy(target: string) {
  const seen: { at: number; status: number }[] = [];
  const state = { failNext: 0 };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    if (state.failNext > 0) {
      state.failNext--;
      seen.push({ at: Date.now(), status: 503 });
      req.resume();
      res.writeHead(503, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>injected</Message></Error></ErrorResponse>',
      );
      return;
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        seen.push({ at: Date.now(), status: up.statusCode ?? 0 });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return {
    seen,
    state,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let proxy: ReturnType<typeof faultProxy>;
let endpoint: string;
let redis: TestRedis;
beforeAll(async () => {
  proxy = faultProxy(stack().stsEndpoint);
  endpoint = await proxy.listen();
  redis = await startRedis();
});
afterAll(async () => {
  await proxy?.close();
  await redis?.stop();
});

async function check(broker: TestBroker) {
  const sub = freshSubject('throttled');
  const token = await broker.token(sub);
  // The SDK retries twice itself (maxAttempts 3): three injected 503s reach the broker as one failure.
  proxy.state.failNext = 3;
  const refused = await broker.credentials(token);
  expect(refused.status).toBe(503);
  expect(refused.body.error.code).toBe('sts_unavailable');
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(proxy.state.failNext).toBe(0);

  // The client: STS throttles its first attempt (3 SDK tries), then recovers.
  proxy.state.failNext = 3;
  const from = proxy.seen.length;
  const provider = brokerCredentials({
    brokerUrl: broker.url,
    getToken: () => broker.token(freshSubject('client')),
    retries: 3,
  });
  const started = Date.now();
  const credentials = await provider();
  expect(credentials.accessKeyId).toMatch(/.+/);
  const calls = proxy.seen.slice(from);
  expect(calls.map((c) => c.status)).toEqual([503, 503, 503, 200]);
  // It waited for Retry-After (1 s) before asking again, rather than hammering STS.
  expect(calls[3]!.at - calls[2]!.at).toBeGreaterThanOrEqual(950);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  // Recovered: the subject that was refused gets credentials now.
  expect((await broker.credentials(token)).status).toBe(200);
}

describe('STS throttling and 5xx', () => {
  it('in-process: 503 with Retry-After, then the client backs off and succeeds', async () => {
    const broker = await startBroker({ vendor: stackVendor({ endpoint }) });
    try {
      await check(broker);
    } finally {
      await broker.close();
    }
  });

  it('with Redis shared state: the same, and the failed miss releases its lock at once', async () => {
    const { state } = sharedStateOn(redis);
    await state.settled();
    const broker = await startBroker({ vendor: stackVendor({ endpoint }), sharedState: state });
    try {
      expect(state.usable()).toBe(true);
      await check(broker);
      const locks = await redis.admin.keys(`${redis.prefix}lock:*`);
      expect(locks).toEqual([]);
      expect(state.stats.cache.fallback).toBe(0);
    } finally {
      await broker.close();
      await state.close();
    }
  });
});
