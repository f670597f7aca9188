// Acceptance (security issue 10, point 5): sign-out really signs out in the client. Alice uploads,
// signs out, Bob signs in on the same storage object: nothing is signed with Alice's keys any more,
// her file is out of reach through `storage` and through `storage.client()` (kept from before or
// taken after), Bob's upload lands in Bob's prefix, and fresh credentials came from the broker.
// Prefixes are read from the grant, never derived from the subject.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerCredentials, createStorage, SignedOutError, StorageError } from '../../client/index.js';
import { freshSubject, startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stack } from '../helpers/stack.js';

const MiB = 1024 * 1024;
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

async function ownerRead(key: string): Promise<string> {
  const out = await ownerS3().send(new GetObjectCommand({ Bucket: stack().bucket, Key: key }));
  return out.Body!.transformToString();
}

async function pendingUploads(prefix: string): Promise<number> {
  const out = await ownerS3().send(new ListMultipartUploadsCommand({ Bucket: stack().bucket, Prefix: prefix }));
  return out.Uploads?.length ?? 0;
}

/** Counts requests that got past identity resolution and signing on a client. */
function sentCounter(client: S3Client): () => number {
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'testSentCounter', priority: 'low' },
  );
  return () => n;
}

const ways = ['storage.signOut()', 'credentials.clear()'] as const;

describe('sign-out in the client against RGW', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  /** One storage object whose getToken answers for whoever is signed in now. */
  function app() {
    let user = freshSubject('alice');
    let mints = 0;
    const credentials = brokerCredentials({
      brokerUrl: broker.url,
      getToken: () => {
        mints++;
        return broker.token(user);
      },
    });
    const storage = createStorage({ credentials, partSizeBytes: 5 * MiB, queueSize: 1 });
    const issuedBefore = broker.logs.filter((l) => l.event === 'credentials.issued').length;
    return {
      credentials,
      storage,
      signInAs: (sub: string) => (user = sub),
      signOut: (how: (typeof ways)[number]) => (how === 'storage.signOut()' ? storage.signOut() : credentials.clear()),
      mints: () => mints,
      /** `credentials.issued` audit lines the broker wrote for this app's requests. */
      issued: () =>
        broker.logs
          .filter((l) => l.event === 'credentials.issued')
          .slice(issuedBefore)
          .map((l) => l.prefix),
    };
  }

  it.each(ways)(
    'after %s and a sign-in as bob, alice’s file is out of reach and bob’s upload lands in bob’s prefix',
    async (how) => {
      const a = app();
      const requestsAtStart = broker.requests();
      const aliceGrant = await a.storage.grant();
      const uploaded = await a.storage.upload('notes/secret.txt', 'alice data');
      expect(uploaded.fullKey).toBe(`${aliceGrant.prefix}notes/secret.txt`);
      const aliceKey = uploaded.fullKey;
      const stale = await a.storage.client();
      const staleSent = sentCounter(stale);
      // Baseline: before the sign-out, the client reads alice's file.
      const before = await stale.send(new GetObjectCommand({ Bucket: aliceGrant.bucket, Key: aliceKey }));
      expect(await before.Body!.transformToString()).toBe('alice data');
      expect(staleSent()).toBe(1);

      a.signOut(how);
      const bob = freshSubject('bob');
      a.signInAs(bob);

      const bobGrant = await a.storage.grant();
      expect(bobGrant.prefix).not.toBe(aliceGrant.prefix);
      expect(bobGrant.identityId).not.toBe(aliceGrant.identityId);

      // storage.download: the same relative key now means bob's prefix, where there is no such file.
      const missing = await a.storage.download('notes/secret.txt').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(StorageError);
      expect(missing).toMatchObject({ code: 'not_found', s3Code: 'NoSuchKey', status: 404 });

      // A client taken after the sign-out is bob's: alice's key is denied by RGW.
      const fresh = await a.storage.client();
      const denied = await fresh
        .send(new GetObjectCommand({ Bucket: aliceGrant.bucket, Key: aliceKey }))
        .catch((e: unknown) => e);
      expect(denied).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      expect(fresh).not.toBe(stale);

      // The client kept from before the sign-out refuses before signing anything: it neither reads
      // alice's file with her keys nor acts with bob's.
      const refused = await stale
        .send(new GetObjectCommand({ Bucket: aliceGrant.bucket, Key: aliceKey }))
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SignedOutError);
      expect(refused).toMatchObject({ code: 'signed_out' });
      expect(staleSent()).toBe(1);

      // Bob's own upload lands in bob's prefix; alice's file is untouched.
      const bobs = await a.storage.upload('notes/secret.txt', 'bob data');
      expect(bobs.fullKey).toBe(`${bobGrant.prefix}notes/secret.txt`);
      expect(await ownerRead(bobs.fullKey)).toBe('bob data');
      expect(await ownerRead(aliceKey)).toBe('alice data');
      expect(text((await a.storage.download('notes/secret.txt')).body)).toBe('bob data');

      // Exactly two credential requests: alice's and, after the sign-out, bob's.
      expect(a.credentials.brokerRequests).toBe(2);
      expect(a.issued()).toEqual([aliceGrant.prefix, bobGrant.prefix]);
      expect(broker.requests() - requestsAtStart).toBe(a.mints() + 2);
    },
  );

  it.each(ways)(
    'an upload running at %s stops with SignedOutError and leaves no multipart upload in alice’s prefix',
    async (how) => {
      const a = app();
      const aliceGrant = await a.storage.grant();
      const part = randomBytes(5 * MiB);
      let signedOut = false;
      async function* slow() {
        for (let i = 0; i < 6; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 300));
          yield part;
        }
      }
      const err = await a.storage
        .upload('blobs/long.bin', slow(), {
          onProgress: (p) => {
            if (!signedOut && p.loaded >= 5 * MiB) {
              signedOut = true;
              a.signOut(how);
              a.signInAs(freshSubject('bob'));
            }
          },
        })
        .catch((e: unknown) => e);
      expect(signedOut).toBe(true);
      expect(err).toBeInstanceOf(SignedOutError);
      expect(err).toMatchObject({ code: 'signed_out' });
      expect(await pendingUploads(aliceGrant.prefix)).toBe(0);
      const head = await ownerRead(`${aliceGrant.prefix}blobs/long.bin`).catch((e: any) => e.$metadata?.httpStatusCode);
      expect(head).toBe(404);
      // No part was sent with bob's keys: bob's credentials were never even asked for.
      expect(a.issued()).toEqual([aliceGrant.prefix]);
    },
  );
});
