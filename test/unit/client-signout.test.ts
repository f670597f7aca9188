// Security issue 10, point 5: sign-out really signs out in the client. A scripted broker on port 0
// answers each user's token with that user's keys and prefix; a fake S3 request handler records
// which access key signed each request, so no S3 is needed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  brokerCredentials,
  createStorage,
  KeyholeClientError,
  SignedOutError,
  type BrokerCredentialsProvider,
} from '../../client/index.js';
import { createAmplifyCredentialsProvider } from '../../client/amplify/index.js';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** Token "jwt-<user>" gets keys "AK-<user>-<n>" and prefix "users/p-<user>/". */
async function fakeBroker(delayMs = 0): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    const user = (req.headers.authorization ?? '').replace(/^Bearer jwt-/, '');
    const id = n;
    req.resume();
    req.on('end', () =>
      setTimeout(
        () =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              credentials: {
                accessKeyId: `AK-${user}-${id}`,
                secretAccessKey: 'S',
                sessionToken: 'T',
                expiration: new Date(Date.now() + 900_000).toISOString(),
              },
              bucket: 'b',
              region: 'us-east-1',
              prefix: `users/p-${user}/`,
              identityId: `id-${user}`,
              access: ['read', 'write', 'list', 'delete'],
              endpoint: 'http://127.0.0.1:9',
              forcePathStyle: true,
            }),
          ),
        delayMs,
      ),
    );
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => n };
}

/** Answers every S3 request 200 and records "<access key> <path>". */
function fakeS3() {
  const signed: string[] = [];
  const handler = {
    async handle(request: { headers: Record<string, string>; path: string }) {
      const auth = String(request.headers['authorization'] ?? '');
      signed.push(`${/Credential=([^/]+)/.exec(auth)?.[1] ?? 'unsigned'} ${request.path}`);
      // The SDK reads statusCode, headers and body; a plain object will do.
      return { response: { statusCode: 200, headers: { 'content-length': '0' }, body: Readable.from([]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { handler, signed };
}

function setup(broker: { url: string }) {
  let user = 'alice';
  const credentials = brokerCredentials({ brokerUrl: broker.url, getToken: () => `jwt-${user}` });
  return { credentials, switchTo: (next: string) => (user = next) };
}

describe('sign-out in the client', () => {
  it('the provider is not memoized by the SDK: after clear() an existing S3Client signs with the next user’s keys', async () => {
    const broker = await fakeBroker();
    const { credentials, switchTo } = setup(broker);
    const s3 = fakeS3();
    expect(credentials.memoized).toBe(true);
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials,
      requestHandler: s3.handler as never,
    });
    await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-alice/x' }));
    await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-alice/x' }));
    expect(credentials.generation).toBe(0);
    credentials.clear();
    expect(credentials.generation).toBe(1);
    switchTo('bob');
    await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-bob/x' }));
    expect(s3.signed).toEqual([
      'AK-alice-1 /b/users/p-alice/x',
      'AK-alice-1 /b/users/p-alice/x',
      'AK-bob-2 /b/users/p-bob/x',
    ]);
    expect(broker.count()).toBe(2);
  });

  it.each(['storage.signOut()', 'credentials.clear()'])(
    'after %s the storage signs with the new user’s keys and an old client() refuses with SignedOutError',
    async (how) => {
      const broker = await fakeBroker();
      const { credentials, switchTo } = setup(broker);
      const s3 = fakeS3();
      const storage = createStorage({ credentials, s3: { requestHandler: s3.handler as never } });
      await storage.head('a.txt');
      const stale = await storage.client();
      expect(await storage.client()).toBe(stale);

      if (how === 'storage.signOut()') storage.signOut();
      else credentials.clear();
      switchTo('bob');

      expect((await storage.grant()).prefix).toBe('users/p-bob/');
      await storage.head('a.txt');
      const fresh = await storage.client();
      expect(fresh).not.toBe(stale);
      const err = await stale.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-alice/a.txt' })).catch((e) => e);
      expect(err).toBeInstanceOf(SignedOutError);
      expect(err).toBeInstanceOf(KeyholeClientError);
      expect((err as SignedOutError).code).toBe('signed_out');
      await fresh.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-bob/b.txt' }));
      // Nothing signed with alice's keys after the sign-out; nothing of alice's signed with bob's.
      expect(s3.signed).toEqual([
        'AK-alice-1 /b/users/p-alice/a.txt',
        'AK-bob-2 /b/users/p-bob/a.txt',
        'AK-bob-2 /b/users/p-bob/b.txt',
      ]);
      expect([credentials.brokerRequests, broker.count()]).toEqual([2, 2]);
    },
  );

  it('a wrapper without `generation` still gets a new client when the identity behind it changes', async () => {
    const broker = await fakeBroker();
    const { credentials, switchTo } = setup(broker);
    const wrapper = Object.assign(async (o?: { forceRefresh?: boolean }) => credentials(o), {
      grant: () => credentials.grant(),
      clear: () => credentials.clear(),
      brokerRequests: 0,
    }) as BrokerCredentialsProvider;
    const s3 = fakeS3();
    const storage = createStorage({ credentials: wrapper, s3: { requestHandler: s3.handler as never } });
    await storage.head('a.txt');
    const stale = await storage.client();
    wrapper.clear();
    switchTo('bob');
    const err = await stale.send(new HeadObjectCommand({ Bucket: 'b', Key: 'users/p-alice/a.txt' })).catch((e) => e);
    expect((err as KeyholeClientError).code).toBe('signed_out');
    await storage.head('a.txt');
    expect(await storage.client()).not.toBe(stale);
    expect(s3.signed).toEqual(['AK-alice-1 /b/users/p-alice/a.txt', 'AK-bob-2 /b/users/p-bob/a.txt']);
  });

  it('an operation that straddles the sign-out rejects with SignedOutError instead of using either user’s keys', async () => {
    const broker = await fakeBroker(50);
    const { credentials, switchTo } = setup(broker);
    const s3 = fakeS3();
    const storage = createStorage({ credentials, s3: { requestHandler: s3.handler as never } });
    const pending = storage.head('a.txt').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10)); // alice's credentials are being fetched
    storage.signOut();
    switchTo('bob');
    expect(await pending).toBeInstanceOf(SignedOutError);
    expect(s3.signed).toEqual([]);
    await storage.head('a.txt');
    expect(s3.signed).toEqual(['AK-bob-2 /b/users/p-bob/a.txt']);
  });

  it('a fetch that was in flight at clear() does not reset the next one: concurrent callers share one request', async () => {
    const broker = await fakeBroker(50);
    const { credentials, switchTo } = setup(broker);
    const old = credentials();
    credentials.clear();
    switchTo('bob');
    const first = credentials();
    await old; // settles while bob's request is still in flight
    const [a, b] = await Promise.all([first, credentials()]);
    expect([a.accessKeyId, b.accessKeyId]).toEqual(['AK-bob-2', 'AK-bob-2']);
    expect(broker.count()).toBe(2);
  });

  it('Amplify: a credentials request straddling clearCredentialsAndIdentityId rejects; the next one is the new user’s', async () => {
    const broker = await fakeBroker(50);
    let user = 'alice';
    const provider = createAmplifyCredentialsProvider({ brokerUrl: broker.url, getToken: () => `jwt-${user}` });
    const pending = provider.getCredentialsAndIdentityId().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    provider.clearCredentialsAndIdentityId();
    user = 'bob';
    expect(await pending).toBeInstanceOf(SignedOutError);
    const next = await provider.getCredentialsAndIdentityId();
    expect([next.identityId, next.credentials.accessKeyId]).toEqual(['id-bob', 'AK-bob-2']);
  });
});
