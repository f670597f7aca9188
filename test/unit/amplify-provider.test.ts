// keyhole/amplify's provider contract, against a scripted broker (fetch): caching, refresh before
// expiry, forceRefresh, sign-out, ExpiredToken handling and option validation.
import { describe, expect, it } from 'vitest';
import {
  BrokerError,
  createAmplifyCredentialsProvider,
  isExpiredTokenError,
  retryOnExpiredToken,
} from '../../client/amplify/index.js';

const IDENTITY = 'us-east-1:7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** A broker that answers credentials #1, #2, ... each valid for `lifetimeMs`. */
function scriptedBroker(lifetimeMs = 3_600_000) {
  const calls: { url: string; auth: string | null }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, auth: new Headers(init.headers).get('authorization') });
    await new Promise((r) => setTimeout(r, 5));
    const n = calls.length;
    return new Response(
      JSON.stringify({
        credentials: {
          accessKeyId: `AK${n}`,
          secretAccessKey: `SK${n}`,
          sessionToken: `ST${n}`,
          expiration: new Date(Date.now() + lifetimeMs).toISOString(),
        },
        bucket: 'b',
        region: 'us-east-1',
        prefix: `private/${IDENTITY}/`,
        identityId: IDENTITY,
        access: ['read', 'write', 'list', 'delete'],
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const ask = { authenticated: false as const, authConfig: undefined };

describe('createAmplifyCredentialsProvider', () => {
  it('returns credentials and the identity id, and caches across calls (one broker request)', async () => {
    const broker = scriptedBroker();
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => p.getCredentialsAndIdentityId(ask)));
    for (const r of results) {
      expect(r.identityId).toBe(IDENTITY);
      expect([r.credentials.accessKeyId, r.credentials.secretAccessKey, r.credentials.sessionToken]).toEqual([
        'AK1',
        'SK1',
        'ST1',
      ]);
      expect(r.credentials.expiration).toBeInstanceOf(Date);
    }
    await p.getCredentialsAndIdentityId(ask);
    expect(broker.calls).toEqual([{ url: 'https://broker.test/v1/credentials', auth: 'Bearer jwt' }]);
    expect(p.brokerRequests).toBe(1);
  });

  it('refreshes once fewer than refreshBeforeSeconds remain', async () => {
    const broker = scriptedBroker(200_000); // 200 s left: inside the default 300 s window
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
    });
    expect((await p.getCredentialsAndIdentityId(ask)).credentials.accessKeyId).toBe('AK1');
    expect((await p.getCredentialsAndIdentityId(ask)).credentials.accessKeyId).toBe('AK2');
    const relaxed = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
      refreshBeforeSeconds: 60,
    });
    expect((await relaxed.getCredentialsAndIdentityId(ask)).credentials.accessKeyId).toBe('AK3');
    expect((await relaxed.getCredentialsAndIdentityId(ask)).credentials.accessKeyId).toBe('AK3');
  });

  it('honours forceRefresh (Amplify passes it from fetchAuthSession({ forceRefresh: true }))', async () => {
    const broker = scriptedBroker();
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
    });
    await p.getCredentialsAndIdentityId(ask);
    const forced = await p.getCredentialsAndIdentityId({ ...ask, forceRefresh: true });
    expect(forced.credentials.accessKeyId).toBe('AK2');
    expect(broker.calls).toHaveLength(2);
  });

  it('forgets everything on clearCredentialsAndIdentityId (sign-out)', async () => {
    const broker = scriptedBroker();
    let token = 'alice-jwt';
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => token,
      fetch: broker.fetch,
    });
    await p.getCredentialsAndIdentityId(ask);
    p.clearCredentialsAndIdentityId();
    token = 'bob-jwt';
    expect((await p.getCredentialsAndIdentityId(ask)).credentials.accessKeyId).toBe('AK2');
    expect(broker.calls.map((c) => c.auth)).toEqual(['Bearer alice-jwt', 'Bearer bob-jwt']);
  });

  it('retryOnExpiredToken invalidates and runs the operation once more, with new credentials', async () => {
    const broker = scriptedBroker();
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
    });
    const seen: string[] = [];
    const result = await retryOnExpiredToken(p, async () => {
      const { credentials } = await p.getCredentialsAndIdentityId(ask);
      seen.push(credentials.accessKeyId);
      if (seen.length === 1)
        throw Object.assign(new Error('The provided token has expired.'), { name: 'ExpiredToken' });
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual(['AK1', 'AK2']);
  });

  it('retryOnExpiredToken passes other errors through untouched, without retrying', async () => {
    const broker = scriptedBroker();
    const p = createAmplifyCredentialsProvider({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      fetch: broker.fetch,
    });
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    let runs = 0;
    await expect(
      retryOnExpiredToken(p, async () => {
        runs++;
        throw denied;
      }),
    ).rejects.toBe(denied);
    expect(runs).toBe(1);
    await expect(retryOnExpiredToken({} as never, async () => 1)).rejects.toThrow(
      new TypeError('provider must come from createAmplifyCredentialsProvider(...)'),
    );
  });

  it.each([
    [{ name: 'ExpiredToken' }, true],
    [{ name: 'ExpiredTokenException' }, true],
    [{ name: 'RequestExpired' }, true],
    [{ name: 'SignatureDoesNotMatch', message: 'Signature expired: 20260101T000000Z is now earlier than ...' }, true],
    [{ name: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match' }, false],
    [{ name: 'AccessDenied' }, false],
    [null, false],
  ])('isExpiredTokenError(%j) is %s', (err, expected) => {
    expect(isExpiredTokenError(err)).toBe(expected);
  });

  it('reports broker refusals as BrokerError with the broker code', async () => {
    const fetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'no_grant', message: 'no grant applies to this identity' } }), {
        status: 403,
      })) as unknown as typeof globalThis.fetch;
    const p = createAmplifyCredentialsProvider({ brokerUrl: 'https://broker.test', getToken: () => 'jwt', fetch });
    const err = await p.getCredentialsAndIdentityId(ask).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect([(err as BrokerError).status, (err as BrokerError).code]).toEqual([403, 'no_grant']);
  });

  it('validates options, naming the option', () => {
    expect(() => createAmplifyCredentialsProvider({ brokerUrl: 'nope', getToken: () => 'x' })).toThrow(
      new TypeError('options.brokerUrl must be an absolute URL such as "https://auth.example.com"'),
    );
    expect(() =>
      createAmplifyCredentialsProvider({ brokerUrl: 'https://b.test', getToken: () => 'x', refreshBeforeSeconds: -1 }),
    ).toThrow(new RangeError('options.refreshBeforeSeconds must be a number >= 0'));
  });
});
