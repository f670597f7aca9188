// Issue 17, point 7: a page on an origin missing from KEYHOLE_CORS_ORIGINS got broker_unreachable
// after three retries, and the broker logged nothing. The broker now logs refused origins (once per
// origin per minute), and keyhole/client tells "the browser blocked the answer" (a no-cors probe of
// /healthz answers) from "nothing answered" (it fails too). Chromium runs the real thing in
// test/e2e/cors-blocked.test.ts.
import { Writable } from 'node:stream';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BrokerError, brokerCredentials } from '../../client/index.js';
import { describe as message } from '../../client/web/src/messages.js';
import { createBroker } from '../../server/broker.js';
import { refusedOrigins } from '../../server/http/refused-origins.js';
import { createLogger } from '../../server/index.js';
import { fakeVendor } from '../helpers/fake-vendor.js';

vi.mock('keyhole/client', () => import('../../client/index.js'));

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger('info', sink) };
}

function run(handler: express.RequestHandler, headers: Record<string, string>, path = '/v1/credentials') {
  let nexted = false;
  handler({ headers, method: 'POST', path } as never, {} as never, () => (nexted = true));
  expect(nexted).toBe(true);
}

describe('refusedOrigins (broker log)', () => {
  it('logs an origin outside the list once per minute, naming the variable; allowed and same-origin never', () => {
    const { lines, logger } = capture();
    let now = 1_000_000;
    const handler = refusedOrigins(['https://app.example.com'], logger, () => now);
    run(handler, { origin: 'https://app.example.com', host: 'broker.example.com' });
    run(handler, { origin: 'https://broker.example.com', host: 'broker.example.com' });
    run(handler, { host: 'broker.example.com' });
    expect(lines).toEqual([]);
    run(handler, { origin: 'https://evil.example', host: 'broker.example.com' });
    now += 59_999;
    run(handler, { origin: 'https://evil.example', host: 'broker.example.com' });
    run(handler, { origin: 'http://localhost:5173', host: 'broker.example.com' });
    now += 1;
    run(handler, { origin: 'https://evil.example', host: 'broker.example.com' });
    expect(
      lines.map(({ level, event, origin, method, path, msg }) => ({ level, event, origin, method, path, msg })),
    ).toEqual(
      ['https://evil.example', 'http://localhost:5173', 'https://evil.example'].map((origin) => ({
        level: 40,
        event: 'cors.refused',
        origin,
        method: 'POST',
        path: '/v1/credentials',
        msg:
          `origin ${origin} is not in KEYHOLE_CORS_ORIGINS (options.corsOrigins): the browser will not let its ` +
          'pages read the broker’s answers; add it if it is your app',
      })),
    );
  });

  it('a client-written origin is logged without control characters and at most 200 characters', () => {
    const { lines, logger } = capture();
    const handler = refusedOrigins([], logger);
    run(handler, { origin: 'https://a\u001b[2J.example' });
    run(handler, { origin: `https://${'x'.repeat(300)}` });
    expect(lines.map((l) => l.origin)).toEqual(['https://a?[2J.example', `https://${'x'.repeat(192)}…`]);
  });

  it('remembers at most 1000 origins: a flood of made-up origins makes it forget, not grow', () => {
    const { lines, logger } = capture();
    const handler = refusedOrigins([], logger, () => 5);
    for (let i = 0; i < 1000; i++) run(handler, { origin: `https://o${i}.example` });
    run(handler, { origin: 'https://o0.example' });
    expect(lines).toHaveLength(1000);
    run(handler, { origin: 'https://o1000.example' });
    run(handler, { origin: 'https://o0.example' });
    expect(lines.slice(1000).map((l) => l.origin)).toEqual(['https://o1000.example', 'https://o0.example']);
  });

  it('createBroker logs a preflight from a refused origin (the browser stops at the preflight)', async () => {
    const { lines, logger } = capture();
    const app = createBroker({
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read'] }] }],
      region: 'us-east-1',
      devLogin: true,
      vendor: fakeVendor(),
      bucketCheck: 'accept-risk',
      corsOrigins: ['https://app.example.com'],
      logger,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/credentials`;
      const preflight = (origin: string) =>
        fetch(url, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization',
          },
        });
      const refused = await preflight('https://other.example');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(lines.filter((l) => l.event === 'cors.refused').map((l) => [l.origin, l.method])).toEqual([
        ['https://other.example', 'OPTIONS'],
      ]);
      // /healthz may be loaded by any site (no-cors), for the client's probe.
      const health = await fetch(url.replace('/v1/credentials', '/healthz'));
      expect(health.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('keyhole/client: blocked by CORS or unreachable', () => {
  const page = 'http://localhost:5173';
  afterEach(() => vi.unstubAllGlobals());

  /** Every credentials request fails as a blocked or unreachable fetch does; the probe answers `probe`. */
  function fetchWith(probe: 'opaque' | 'basic' | 'network') {
    const urls: string[] = [];
    const inits: RequestInit[] = [];
    const fetch = (async (url: string, init: RequestInit) => {
      urls.push(url);
      inits.push(init);
      if (!url.endsWith('/healthz') || probe === 'network') throw new TypeError('Failed to fetch');
      return { type: probe, ok: false, status: 0 } as Response;
    }) as unknown as typeof globalThis.fetch;
    return { fetch, urls, inits };
  }

  async function failure(fetch: typeof globalThis.fetch, brokerUrl = 'http://127.0.0.1:8787/'): Promise<BrokerError> {
    const credentials = brokerCredentials({ brokerUrl, getToken: () => 'jwt', fetch, retries: 0 });
    return credentials().then(
      () => {
        throw new Error('expected a failure');
      },
      (err: unknown) => err as BrokerError,
    );
  }

  it('the probe answers (opaque): cors_blocked, naming the page origin and KEYHOLE_CORS_ORIGINS', async () => {
    vi.stubGlobal('location', { origin: page });
    const f = fetchWith('opaque');
    const err = await failure(f.fetch, 'http://127.0.0.1:8787/keyhole/');
    expect(err).toBeInstanceOf(BrokerError);
    expect([err.status, err.code, err.message]).toEqual([
      0,
      'cors_blocked',
      'the Keyhole broker at http://127.0.0.1:8787 answered, but the browser blocked its answers to this page: ' +
        "add this page's origin, http://localhost:5173, to the broker's KEYHOLE_CORS_ORIGINS (options.corsOrigins)",
    ]);
    expect(f.urls).toEqual(['http://127.0.0.1:8787/keyhole/v1/credentials', 'http://127.0.0.1:8787/keyhole/healthz']);
    expect(f.inits[1]).toMatchObject({ method: 'GET', mode: 'no-cors', credentials: 'omit', cache: 'no-store' });
    expect(message(err)).toEqual({ kind: 'error', text: `Blocked by the browser (CORS): ${err.message}.` });
  });

  it('the probe fails too: broker_unreachable, as before', async () => {
    vi.stubGlobal('location', { origin: page });
    const err = await failure(fetchWith('network').fetch);
    expect([err.code, err.message]).toEqual([
      'broker_unreachable',
      'the Keyhole broker at http://127.0.0.1:8787/v1/credentials could not be reached',
    ]);
  });

  it('a non-opaque probe answer (a fetch that ignores mode) proves nothing: broker_unreachable', async () => {
    vi.stubGlobal('location', { origin: page });
    expect((await failure(fetchWith('basic').fetch)).code).toBe('broker_unreachable');
  });

  it('no probe outside a page, or from the broker’s own origin (CORS does not apply)', async () => {
    const node = fetchWith('opaque');
    expect((await failure(node.fetch)).code).toBe('broker_unreachable');
    vi.stubGlobal('location', { origin: 'http://127.0.0.1:8787' });
    const same = fetchWith('opaque');
    expect((await failure(same.fetch)).code).toBe('broker_unreachable');
    expect([...node.urls, ...same.urls].filter((u) => u.endsWith('/healthz'))).toEqual([]);
  });
});
