// Tests added to kill mutants that survived `npm run test:mutation` (see test/MUTATION.md), grouped
// by module. Each names the behaviour it pins, not the mutant.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BrokerError,
  brokerCredentials,
  createStorage,
  InvalidKeyError,
  SignedOutError,
  StorageError,
} from '../../client/index.js';
import { fullKey, listPrefix } from '../../client/keys.js';
import { clientAddressKey, RateLimiter } from '../../server/http/rate-limit.js';
import { FakeS3 } from '../helpers/fake-s3.js';

describe('client/keys', () => {
  it.each([undefined, null, 42, {}, ['a']])(
    'a key that is not a string (%j) is an InvalidKeyError, not a TypeError',
    (key) => {
      expect(() => fullKey('users/alice/', key as never)).toThrow(InvalidKeyError);
      expect(() => fullKey('users/alice/', key as never)).toThrow('key must be a non-empty string');
    },
  );

  it('a list prefix without a trailing "/" gets none added', () => {
    expect(listPrefix('users/alice/', 'photos')).toBe('users/alice/photos');
    expect(listPrefix('users/alice/', 'photos/2026')).toBe('users/alice/photos/2026');
  });
});

describe('server/http/rate-limit', () => {
  it.each([
    [undefined, 'ip:unknown'],
    ['', 'ip:unknown'],
    ['203.0.113.9', 'ip:203.0.113.9'],
    ['::ffff:203.0.113.9', 'ip:203.0.113.9'],
    ['::FFFF:10.200.30.40', 'ip:10.200.30.40'],
    ['1::ffff:1.2.3.4', 'ip6:1:0:0:0::/64'],
    ['::ffff:1.2.3.4x', 'ip:::ffff:1.2.3.4x'],
    ['2001:db8:1:2:3:4:5:6', 'ip6:2001:db8:1:2::/64'],
    ['2001:DB8:1:2::a', 'ip6:2001:db8:1:2::/64'],
    ['1:2:3::4:5:6:7', 'ip6:1:2:3:0::/64'],
    ['fe80::1%eth0', 'ip6:fe80:0:0:0::/64'],
    ['::1', 'ip6:0:0:0:0::/64'],
  ])('clientAddressKey(%j) = %s', (ip, key) => {
    expect(clientAddressKey(ip)).toBe(key);
  });

  it('a window two or more windows old is forgotten entirely, also between sweeps', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 2, windowSeconds: 1 }, () => now);
    limiter.hit('k', 'subject');
    limiter.hit('k', 'subject');
    now = 1500;
    limiter.hit('other', 'subject'); // sweeps now, so the next call (within 1 s) does not
    now = 2100;
    limiter.hit('k', 'subject');
    expect(() => limiter.hit('k', 'subject')).not.toThrow();
  });

  it('sweeps keys older than two windows, once per window, keeping one exactly at the cutoff', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 5, windowSeconds: 1 }, () => now);
    const at = (t: number, key: string) => {
      now = t;
      limiter.hit(key, 'subject');
    };
    at(0, 'a');
    at(2000, 'b'); // sweep: a (start 0) is older than 2000 - 2000? no: not < 0
    expect(limiter.size).toBe(2);
    at(3100, 'd'); // sweep: cutoff 1100, a goes
    expect(limiter.size).toBe(2);
    at(4100, 'e'); // exactly one window after the last sweep: sweep, cutoff 2100, b (start 2000) goes
    expect(limiter.size).toBe(2);
    at(4500, 'f'); // within the window since the last sweep: no sweep
    expect(limiter.size).toBe(3);
  });

  it('a key whose window starts exactly at the cutoff is kept', () => {
    let now = 1000;
    const limiter = new RateLimiter({ limit: 5, windowSeconds: 1 }, () => now);
    limiter.hit('a', 'subject'); // start 1000, sweeps at 1000
    now = 3000;
    limiter.hit('z', 'subject'); // sweep, cutoff 1000: a stays
    expect(limiter.size).toBe(2);
  });
});

describe('client/credentials', () => {
  const grantJson = (expiresInMs: number, now = Date.now()) =>
    JSON.stringify({
      credentials: {
        accessKeyId: 'AK',
        secretAccessKey: 'S',
        sessionToken: 'T',
        expiration: new Date(now + expiresInMs).toISOString(),
      },
      bucket: 'b',
      region: 'r',
      prefix: 'p/',
      identityId: 'i',
      access: ['read'],
    });

  it('SignedOutError has code signed_out and a default message', () => {
    const e = new SignedOutError();
    expect([e.code, e.message]).toEqual([
      'signed_out',
      'signed out: this client belonged to a user who has since signed out',
    ]);
  });

  it.each([null, undefined, 'https://b', 42])('options %j is a TypeError', (options) => {
    expect(() => brokerCredentials(options as never)).toThrow(new TypeError('options must be an object'));
  });

  it.each(['read', 'write', 'list', 'delete'])('access ["%s"] is accepted', (a) => {
    expect(() =>
      brokerCredentials({ brokerUrl: 'https://b', getToken: () => 't', access: [a as never] }),
    ).not.toThrow();
  });

  it.each([[[]], [['read', 'own']], [['own']]])('access %j is a TypeError', (access) => {
    expect(() => brokerCredentials({ brokerUrl: 'https://b', getToken: () => 't', access: access as never })).toThrow(
      'options.access must be a non-empty array of "read", "write", "list", "delete"',
    );
  });

  it.each([
    [{ refreshBeforeSeconds: -1 }, 'options.refreshBeforeSeconds must be a number >= 0'],
    [{ refreshBeforeSeconds: Number.NaN }, 'options.refreshBeforeSeconds must be a number >= 0'],
    [{ refreshBeforeSeconds: Number.POSITIVE_INFINITY }, 'options.refreshBeforeSeconds must be a number >= 0'],
    [{ retries: -1 }, 'options.retries must be an integer from 0 to 10'],
    [{ retries: 1.5 }, 'options.retries must be an integer from 0 to 10'],
    [{ maxLifetimeSeconds: -5 }, 'options.maxLifetimeSeconds must be a number > 0'],
    [{ maxLifetimeSeconds: Number.NaN }, 'options.maxLifetimeSeconds must be a number > 0'],
  ])('%j is a RangeError', (extra, message) => {
    expect(() => brokerCredentials({ brokerUrl: 'https://b', getToken: () => 't', ...extra })).toThrow(
      new RangeError(message),
    );
  });

  it.each([{ refreshBeforeSeconds: 0 }, { retries: 0 }, { retries: 10 }, { maxLifetimeSeconds: 0.5 }])(
    '%j is accepted',
    (extra) => {
      expect(() => brokerCredentials({ brokerUrl: 'https://b', getToken: () => 't', ...extra })).not.toThrow();
    },
  );

  it.each([
    ['https://b.test', 'https://b.test/v1/credentials'],
    ['https://b.test/', 'https://b.test/v1/credentials'],
    ['https://b.test/base', 'https://b.test/base/v1/credentials'],
    ['https://b.test/base/', 'https://b.test/base/v1/credentials'],
  ])('brokerUrl %s posts to %s', async (brokerUrl, endpoint) => {
    const urls: string[] = [];
    const provider = brokerCredentials({
      brokerUrl,
      getToken: () => 't',
      fetch: (async (url: string) => (urls.push(url), new Response(grantJson(900_000)))) as never,
    });
    await provider();
    expect(urls).toEqual([endpoint]);
  });

  it.each(['', 42, undefined])('getToken returning %j is token_unavailable, and nothing is sent', async (token) => {
    let sent = 0;
    const provider = brokerCredentials({
      brokerUrl: 'https://b',
      getToken: () => token as never,
      fetch: (async () => (sent++, new Response(grantJson(900_000)))) as never,
    });
    await expect(provider()).rejects.toMatchObject({
      code: 'token_unavailable',
      message: 'getToken() must return a non-empty JWT string',
    });
    expect(sent).toBe(0);
  });

  describe('with a fixed clock', () => {
    const T = 1_800_000_000_000; // a whole second
    beforeEach(() => vi.useFakeTimers({ now: T }));
    afterEach(() => vi.useRealTimers());

    it.each([
      [1000, 0],
      [2000, 0],
      [3000, 3000],
      [-3000, -3000],
    ])('a broker clock %i ms off shifts expiry by %i ms (only beyond 2 s)', async (offset, shift) => {
      const provider = brokerCredentials({
        brokerUrl: 'https://b',
        getToken: () => 't',
        fetch: (async () =>
          new Response(grantJson(900_000, T + offset), {
            headers: { date: new Date(T + offset).toUTCString() },
          })) as never,
      });
      const c = await provider();
      expect(c.expiration.getTime()).toBe(T + offset + 900_000 - shift);
    });

    it('refetches when exactly refreshBeforeSeconds remain, not a millisecond later', async () => {
      let calls = 0;
      const provider = brokerCredentials({
        brokerUrl: 'https://b',
        getToken: () => 't',
        fetch: (async () => (calls++, new Response(grantJson(900_000)))) as never,
      });
      await provider();
      vi.setSystemTime(T + 599_999); // 300.001 s left
      await provider();
      expect(calls).toBe(1);
      vi.setSystemTime(T + 600_000); // exactly 300 s left
      await provider();
      expect(calls).toBe(2);
    });
  });

  it('is marked memoized (enumerable, writable) so the SDK asks it on every request', () => {
    const provider = brokerCredentials({ brokerUrl: 'https://b', getToken: () => 't' });
    expect(provider.memoized).toBe(true);
    expect(Object.keys(provider)).toContain('memoized');
    expect(Object.getOwnPropertyDescriptor(provider, 'memoized')).toMatchObject({ writable: true, enumerable: true });
  });
});

describe('client/storage error mapping (in-memory S3)', () => {
  const PREFIX = 'users/p-alice/';
  function setup(grant: Record<string, unknown> = {}, brokerAnswers?: (n: number) => Response) {
    const s3 = new FakeS3('uploads', PREFIX);
    let n = 0;
    const body = (expiresInMs: number) =>
      JSON.stringify({
        credentials: {
          accessKeyId: 'AK',
          secretAccessKey: 'S',
          sessionToken: 'T',
          expiration: new Date(Date.now() + expiresInMs).toISOString(),
        },
        bucket: 'uploads',
        region: 'eu-west-1',
        prefix: PREFIX,
        identityId: 'p-alice',
        access: ['read', 'write', 'list', 'delete'],
        endpoint: 'http://fake-s3.test',
        forcePathStyle: true,
        ...grant,
      });
    const credentials = brokerCredentials({
      brokerUrl: 'https://broker.test',
      getToken: () => 'jwt',
      retries: 0,
      fetch: (async () => (n++, brokerAnswers ? brokerAnswers(n) : new Response(body(900_000)))) as never,
    });
    const storage = createStorage({ credentials, s3: { requestHandler: s3.handler as never, maxAttempts: 1 } });
    return { s3, storage, body };
  }
  const caught = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as StorageError,
    );

  it.each([
    [{ name: 'AbortError' }, 'aborted', 'download of "k" was cancelled'],
    [{ name: 'RequestAbortedError' }, 'aborted', 'download of "k" was cancelled'],
    [{ name: 'AccessDenied' }, 'access_denied', 'access denied: download "k" is outside your grant'],
    [{ name: 'NoSuchKey' }, 'not_found', '"k" does not exist'],
    [{ name: 'NotFound' }, 'not_found', '"k" does not exist'],
    [
      { name: 'TimeoutError', message: 'socket hang up' },
      's3_error',
      'download of "k" failed: TimeoutError: socket hang up',
    ],
    [{ name: 'Weird' }, 's3_error', 'download of "k" failed: Weird'],
    [{}, 's3_error', 'download of "k" failed: error'],
  ])('a handler error %j (no HTTP status) → %s', async (fields, code, message) => {
    const { s3, storage } = setup();
    const error = Object.assign(new Error(''), { name: undefined }, fields);
    s3.fault = () => Promise.resolve({ reject: error });
    const err = await caught(storage.download('k'));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code, message, status: undefined });
    expect(err!.cause).toBe(error);
  });

  it('a source that throws a non-error is reported, not crashed on', async () => {
    const { storage } = setup();
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1);
      throw undefined;
    }
    const err = await caught(storage.upload('u.bin', source()));
    expect(err).toMatchObject({ code: 's3_error', message: 'upload of "u.bin" failed: error' });
  });

  it('a broker refusal while signing an S3 call comes out as the BrokerError itself', async () => {
    // The first grant lives 100 s, inside the 300 s refresh window, so signing refetches: 403.
    const { storage } = setup({}, (n) =>
      n === 1
        ? new Response(
            JSON.stringify({
              credentials: {
                accessKeyId: 'AK',
                secretAccessKey: 'S',
                sessionToken: 'T',
                expiration: new Date(Date.now() + 100_000).toISOString(),
              },
              bucket: 'uploads',
              region: 'eu-west-1',
              prefix: PREFIX,
              identityId: 'p-alice',
              access: ['read'],
              endpoint: 'http://fake-s3.test',
              forcePathStyle: true,
            }),
          )
        : new Response('{"error":{"code":"access_not_granted","message":"no"}}', { status: 403 }),
    );
    const err = await caught(storage.download('k'));
    expect(err).toBeInstanceOf(BrokerError);
    expect(err).toMatchObject({ code: 'access_not_granted', status: 403 });
  });

  it('path style defaults to true for an endpoint when the broker does not say', async () => {
    const { storage } = setup({ forcePathStyle: undefined });
    expect((await storage.client()).config.forcePathStyle).toBe(true);
  });

  it('a cancelled upload’s error wraps the original failure as its cause', async () => {
    const { s3, storage } = setup();
    const controller = new AbortController();
    s3.fault = async (r) => {
      if (r.op === 'UploadPart') {
        controller.abort();
        await new Promise((res) => setTimeout(res, 30));
      }
      return undefined;
    };
    const err = await caught(
      storage.upload('c.bin', new Uint8Array(12 * 1024 * 1024), {
        signal: controller.signal,
        partSizeBytes: 5 * 1024 * 1024,
      }),
    );
    expect(err).toMatchObject({ code: 'aborted', message: 'upload of "c.bin" was cancelled', s3Code: 'AbortError' });
    expect((err!.cause as Error).message).toBe('cancelled');
  });
});

describe('client/storage sign-out (in-memory S3)', () => {
  /** Broker answers per user: token "jwt-<user>" gets keys "AK-<user>" and prefix "users/<user>/". */
  function setup() {
    let user = 'alice';
    let brokerDelay = 0;
    const s3 = new FakeS3('uploads', 'users/');
    const signedBy: string[] = [];
    const credentials = brokerCredentials({
      brokerUrl: 'https://broker.test',
      getToken: () => `jwt-${user}`,
      fetch: (async (_url: string, init: RequestInit) => {
        const who = String((init.headers as Record<string, string>).authorization).replace('Bearer jwt-', '');
        if (brokerDelay) await new Promise((r) => setTimeout(r, brokerDelay));
        return new Response(
          JSON.stringify({
            credentials: {
              accessKeyId: `AK-${who}`,
              secretAccessKey: 'S',
              sessionToken: 'T',
              expiration: new Date(Date.now() + 900_000).toISOString(),
            },
            bucket: 'uploads',
            region: 'eu-west-1',
            prefix: `users/${who}/`,
            identityId: who,
            access: ['read', 'write', 'list', 'delete'],
            endpoint: 'http://fake-s3.test',
            forcePathStyle: true,
          }),
        );
      }) as never,
    });
    s3.fault = (r) => {
      signedBy.push(/Credential=([^/]+)/.exec(r.headers.authorization ?? '')?.[1] ?? '?');
      return undefined;
    };
    const storage = createStorage({
      credentials,
      partSizeBytes: 5 * 1024 * 1024,
      s3: { requestHandler: s3.handler as never, maxAttempts: 1 },
    });
    return {
      s3,
      storage,
      credentials,
      signedBy,
      become: (u: string) => void (user = u),
      slowBroker: (ms: number) => void (brokerDelay = ms),
    };
  }

  it('a client kept across signOut() refuses with SignedOutError; the next user gets a new client and prefix', async () => {
    const t = setup();
    await t.storage.upload('a.txt', 'from alice');
    const old = await t.storage.client();
    t.storage.signOut();
    t.become('bob');
    await expect(
      old.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'users/alice/a.txt' })),
    ).rejects.toBeInstanceOf(SignedOutError);
    await t.storage.upload('b.txt', 'from bob');
    expect(await t.storage.client()).not.toBe(old);
    expect([...t.s3.objects.keys()].sort()).toEqual(['users/alice/a.txt', 'users/bob/b.txt']);
    expect(t.signedBy).toEqual(['AK-alice', 'AK-bob']);
  });

  it('credentials.clear() alone retires the old client at its next request', async () => {
    const t = setup();
    await t.storage.upload('a.txt', 'x');
    const old = await t.storage.client();
    t.credentials.clear();
    t.become('bob');
    await expect(
      old.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'users/alice/a.txt' })),
    ).rejects.toBeInstanceOf(SignedOutError);
    // Retired for good: asked again, it still refuses.
    await expect(
      old.send(new HeadObjectCommand({ Bucket: 'uploads', Key: 'users/alice/a.txt' })),
    ).rejects.toBeInstanceOf(SignedOutError);
    expect(t.signedBy).toEqual(['AK-alice']);
  });

  it('an upload running at signOut() stops with SignedOutError and its multipart upload is aborted with the old keys', async () => {
    const t = setup();
    const fault = t.s3.fault!;
    t.s3.fault = async (r) => {
      await fault(r);
      if (r.op === 'UploadPart') await new Promise((res) => setTimeout(res, 50));
      return undefined;
    };
    const running = t.storage.upload('big.bin', new Uint8Array(12 * 1024 * 1024)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    t.storage.signOut();
    const err = (await running) as SignedOutError;
    expect(err).toBeInstanceOf(SignedOutError);
    expect(err.message).toBe('upload of "big.bin" was stopped: signed out');
    expect(err.cause).toBeDefined();
    expect(t.s3.openUploads()).toEqual([]);
    expect(t.signedBy.every((k) => k === 'AK-alice')).toBe(true);
    expect(t.s3.count('AbortMultipartUpload')).toBeGreaterThanOrEqual(1);
  });

  it('an operation still fetching credentials at signOut() rejects, and nothing is sent', async () => {
    const t = setup();
    t.slowBroker(50);
    const pending = t.storage.head('x.txt').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    t.storage.signOut();
    const err = (await pending) as SignedOutError;
    expect(err).toBeInstanceOf(SignedOutError);
    expect(err.message).toBe('signed out while the operation was starting');
    expect(t.s3.log).toEqual([]);
  });

  it('signing out twice, or with nothing started, is harmless', async () => {
    const t = setup();
    t.storage.signOut();
    t.storage.signOut();
    await t.storage.upload('a.txt', 'x');
    expect(t.signedBy).toEqual(['AK-alice']);
  });
});
