// brokerCredentials' retry policy with an injected fetch and fake timers: which answers are
// retried, how long it waits (exponential backoff, Retry-After, its 30 s cap), what it reports
// when it gives up. Independent of the HTTP-server tests in client-credentials.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerError, brokerCredentials } from '../../client/index.js';

const OK_BODY = () =>
  JSON.stringify({
    credentials: {
      accessKeyId: 'AK',
      secretAccessKey: 'S',
      sessionToken: 'T',
      expiration: new Date(Date.now() + 900_000).toISOString(),
    },
    bucket: 'b',
    region: 'us-east-1',
    prefix: 'p/',
    identityId: 'i',
    access: ['read'],
  });

type Answer = number | 'network' | { status: number; headers?: Record<string, string>; body?: string };

/** A fetch that plays `answers` in order (the last one repeats) and records when it was called. */
function scripted(answers: Answer[]) {
  const calls: number[] = [];
  const inits: RequestInit[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    calls.push(Date.now());
    inits.push(init);
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (a === 'network') throw new TypeError('fetch failed');
    const { status, headers = {}, body } = typeof a === 'number' ? { status: a, headers: {}, body: undefined } : a;
    const text =
      body ??
      (status === 200 ? OK_BODY() : JSON.stringify({ error: { code: `code_${status}`, message: `msg ${status}` } }));
    return new Response(text, { status, headers: { 'content-type': 'application/json', ...headers } });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls, inits };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts the provider and returns its settled outcome once all timers have run. */
async function run(answers: Answer[], extra: { retries?: number } = {}) {
  const s = scripted(answers);
  const provider = brokerCredentials({
    brokerUrl: 'https://broker.test',
    getToken: () => 'jwt',
    fetch: s.fetch,
    ...extra,
  });
  const started = Date.now();
  const outcome: Promise<{ ok?: string; error?: BrokerError }> = provider().then(
    (c) => ({ ok: c.accessKeyId }),
    (e: unknown) => ({ error: e as BrokerError }),
  );
  await vi.runAllTimersAsync();
  const result = await outcome;
  return { ...s, result, waits: s.calls.map((t, i) => t - (i === 0 ? started : s.calls[i - 1]!)) };
}

describe('retry on 5xx and 429', () => {
  it.each([500, 502, 503, 504, 429])('%i then 200: retried once, succeeds', async (status) => {
    const r = await run([status, 200]);
    expect(r.result).toEqual({ ok: 'AK' });
    expect(r.calls).toHaveLength(2);
  });

  it.each([400, 403, 404, 409, 413])('%i is not retried: BrokerError with the broker’s code', async (status) => {
    const r = await run([status, 200]);
    expect(r.calls).toHaveLength(1);
    expect(r.result.error).toBeInstanceOf(BrokerError);
    expect(r.result.error).toMatchObject({ status, code: `code_${status}`, message: `msg ${status}` });
  });

  it('without Retry-After, waits 200 ms then 400 ms (exponential), then gives up after 2 retries', async () => {
    const r = await run([503]);
    expect(r.calls).toHaveLength(3);
    expect(r.waits).toEqual([0, 200, 400]);
    expect(r.result.error).toMatchObject({ status: 503, code: 'code_503', retryAfterSeconds: undefined });
  });

  it('retries: 5 means six attempts, backing off 200, 400, 800, 1600, 3200 ms', async () => {
    const r = await run([500], { retries: 5 });
    expect(r.waits).toEqual([0, 200, 400, 800, 1600, 3200]);
  });

  it('retries: 0 means one attempt', async () => {
    const r = await run([503, 200], { retries: 0 });
    expect(r.calls).toHaveLength(1);
    expect(r.result.error).toMatchObject({ status: 503 });
  });

  it('a network failure is retried with the same backoff, then reported as broker_unreachable (status 0)', async () => {
    const r = await run(['network']);
    expect(r.waits).toEqual([0, 200, 400]);
    expect(r.result.error).toBeInstanceOf(BrokerError);
    expect(r.result.error).toMatchObject({
      status: 0,
      code: 'broker_unreachable',
      message: 'the Keyhole broker at https://broker.test/v1/credentials could not be reached',
    });
    expect((r.result.error!.cause as Error).message).toBe('fetch failed');
  });

  it('an error page that is not JSON keeps the status: http_502 and a generic message', async () => {
    const r = await run([{ status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html' } }], {
      retries: 0,
    });
    expect(r.result.error).toMatchObject({
      status: 502,
      code: 'http_502',
      message: 'the broker answered HTTP 502',
    });
  });
});

describe('Retry-After', () => {
  it('is honoured to the millisecond: Retry-After: 3 waits 3000 ms, not the 200 ms backoff', async () => {
    const r = await run([{ status: 429, headers: { 'retry-after': '3' } }, 200]);
    expect(r.result).toEqual({ ok: 'AK' });
    expect(r.waits).toEqual([0, 3000]);
  });

  it('is capped at 30 s', async () => {
    const r = await run([{ status: 503, headers: { 'retry-after': '3600' } }, 200]);
    expect(r.waits).toEqual([0, 30_000]);
  });

  it('a non-numeric Retry-After (an HTTP date) falls back to the backoff', async () => {
    const r = await run([{ status: 503, headers: { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' } }, 200]);
    expect(r.waits).toEqual([0, 200]);
  });

  it('is reported on the final BrokerError', async () => {
    const r = await run([{ status: 429, headers: { 'retry-after': '7' } }], { retries: 1 });
    expect(r.waits).toEqual([0, 7000]);
    expect(r.result.error).toMatchObject({ status: 429, code: 'code_429', retryAfterSeconds: 7 });
  });

  it('a 401 is never retried on Retry-After: one token refresh, then the error', async () => {
    const tokens: boolean[] = [];
    const s = scripted([{ status: 401, headers: { 'retry-after': '1' } }]);
    const provider = brokerCredentials({
      brokerUrl: 'https://broker.test',
      getToken: ({ forceRefresh }) => (tokens.push(forceRefresh), 'jwt'),
      fetch: s.fetch,
    });
    const outcome = provider().catch((e: unknown) => e);
    await vi.runAllTimersAsync();
    expect(await outcome).toMatchObject({ status: 401, code: 'code_401' });
    expect(tokens).toEqual([false, true]);
    expect(s.calls).toHaveLength(2);
  });
});

describe('the request itself', () => {
  it('POSTs JSON to <brokerUrl>/v1/credentials with the bearer token, no cookies, no cache', async () => {
    const r = await run([200]);
    const init = r.inits[0]! as RequestInit & { cache: string };
    expect(init.method).toBe('POST');
    expect(init.headers).toEqual({ authorization: 'Bearer jwt', 'content-type': 'application/json' });
    expect(init.body).toBe('{}');
    expect(init.credentials).toBe('omit');
    expect(init.cache).toBe('no-store');
  });

  it('sends the requested access subset', async () => {
    const s = scripted([200]);
    const provider = brokerCredentials({
      brokerUrl: 'https://broker.test/base/',
      getToken: () => 'jwt',
      fetch: s.fetch,
      access: ['read', 'list'],
    });
    await provider();
    expect(s.inits[0]!.body).toBe('{"access":["read","list"]}');
  });
});
