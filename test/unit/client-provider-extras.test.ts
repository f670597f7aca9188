// The credentials provider's smaller surface, with an injected fetch: confirmUpload asks the broker
// named by brokerUrl for its verdict, canonicalAccess puts access lists in the wire order, and a
// page with no origin of its own is never told it was blocked by CORS.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { brokerCredentials, type BrokerError } from '../../client/index.js';
import { canonicalAccess } from '../../client/protocol/access.js';

describe('canonicalAccess', () => {
  it.each([
    [[], []],
    [
      ['delete', 'read'],
      ['read', 'delete'],
    ],
    [
      ['list', 'write', 'list', 'read', 'delete', 'write'],
      ['read', 'write', 'list', 'delete'],
    ],
  ] as const)('%j → %j', (given, canonical) => {
    expect(canonicalAccess(given)).toEqual(canonical);
  });
});

describe('provider.confirmUpload', () => {
  it('POSTs the key (and prefix) to <broker>/v1/uploads/complete with the bearer token and returns the verdict', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const verdict = { status: 'accepted', key: 'a.png', size: 3, contentType: 'image/png', etag: 'e1' };
    const fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(verdict), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof globalThis.fetch;
    const provider = brokerCredentials({ brokerUrl: 'https://broker.test/keyhole', getToken: () => 'jwt-1', fetch });
    expect(await provider.confirmUpload!('a.png', 'users/alice/')).toEqual(verdict);
    expect(await provider.confirmUpload!('a.png')).toEqual(verdict);
    expect(calls.map((c) => [c.url, c.init.method, c.init.body])).toEqual([
      ['https://broker.test/keyhole/v1/uploads/complete', 'POST', '{"key":"a.png","prefix":"users/alice/"}'],
      ['https://broker.test/keyhole/v1/uploads/complete', 'POST', '{"key":"a.png"}'],
    ]);
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer jwt-1');
    // No credentials were asked for.
    expect(provider.brokerRequests).toBe(0);
  });
});

describe('a failed credentials request in a page', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** Credentials requests fail as a blocked fetch does; the /healthz probe answers opaque. */
  const fetch = (async (url: string) => {
    if (!url.endsWith('/healthz')) throw new TypeError('Failed to fetch');
    return { type: 'opaque', ok: false, status: 0 } as Response;
  }) as unknown as typeof globalThis.fetch;
  const failure = () =>
    brokerCredentials({ brokerUrl: 'http://127.0.0.1:8787/', getToken: () => 'jwt', fetch, retries: 0 })().then(
      () => undefined,
      (err: unknown) => err as BrokerError,
    );

  it('an opaque origin ("null": a file or a sandboxed frame) is broker_unreachable, never cors_blocked', async () => {
    vi.stubGlobal('location', { origin: 'null' });
    const err = await failure();
    expect([err?.status, err?.code]).toEqual([0, 'broker_unreachable']);
  });

  it('cors_blocked keeps the failed request as its cause', async () => {
    vi.stubGlobal('location', { origin: 'http://localhost:5173' });
    const err = await failure();
    expect(err?.code).toBe('cors_blocked');
    expect(err?.cause).toBeInstanceOf(TypeError);
    expect((err?.cause as Error).message).toBe('Failed to fetch');
  });
});
