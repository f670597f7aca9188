// keyhole/amplify withGrantErrors (issue 17, point 4): Amplify's bare AccessDenied, when the user's
// Keyhole grant is what refused the call, names the access that was missing, the path and the grant.
import { describe, expect, it } from 'vitest';
import { withGrantErrors, type KeyholeAmplifyProvider } from '../../client/amplify/index.js';
import type { Grant } from '../../client/index.js';

const ID = 'alice';
/** The broker's default grant: one prefix. */
const usersGrant: Grant = {
  bucket: 'b',
  region: 'us-east-1',
  prefix: `users/${ID}/`,
  identityId: ID,
  access: ['read', 'write', 'list', 'delete'],
};
/** Amplify's layout. */
const amplifyGrant: Grant = {
  ...usersGrant,
  prefix: `private/${ID}/`,
  scopes: [
    { prefix: `private/${ID}/`, access: ['read', 'write', 'list', 'delete'] },
    { prefix: 'protected/', access: ['read', 'list'] },
    { prefix: 'public/', access: ['write'] },
  ],
};

function provider(grant: Grant): KeyholeAmplifyProvider {
  return {
    getCredentialsAndIdentityId: async () => ({ credentials: {} as never, identityId: grant.identityId }),
    clearCredentialsAndIdentityId: () => {},
    invalidate: () => {},
    grant: async () => grant,
    brokerRequests: 1,
  };
}

/** Amplify's StorageError for a 403, as its S3 deserializer builds it. */
function accessDenied(): Error {
  const err = new Error('Access Denied') as Error & { $metadata: object; recoverySuggestion?: string };
  err.name = 'AccessDenied';
  err.$metadata = { httpStatusCode: 403 };
  return err;
}

/** Amplify-shaped functions that all fail with `err`; tasks for upload/download, promises for the rest. */
function failing(err: unknown) {
  const task = () => {
    const result = Promise.reject(err);
    let state = 'IN_PROGRESS';
    return {
      result,
      cancel: () => {
        state = 'CANCELED';
      },
      get state() {
        return state;
      },
    };
  };
  return {
    uploadData: (_input: unknown) => task(),
    downloadData: (_input: unknown) => task(),
    list: async (_input: unknown) => Promise.reject(err),
    remove: async (_input: unknown) => Promise.reject(err),
    copy: async (_input: unknown) => Promise.reject(err),
    getProperties: async (_input: unknown) => Promise.reject(err),
    other: () => 'untouched',
  };
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('withGrantErrors: AccessDenied names the missing access', () => {
  it('the default users/{sub}/ grant and Amplify private/ path: names the path, the access and the grant', async () => {
    const s = withGrantErrors(provider(usersGrant), failing(accessDenied()));
    const err = await rejection(
      s.uploadData({
        path: ({ identityId }: { identityId?: string }) => `private/${identityId}/hello.txt`,
        data: 'hello',
      }).result,
    );
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toBe(
      'access denied: uploadData "private/alice/hello.txt" needs write; your Keyhole grant gives no access there. ' +
        'The grant allows: users/alice/ (read, write, list, delete)',
    );
    expect(err.recoverySuggestion).toContain('KEYHOLE_GRANTS');
    expect(err.recoverySuggestion).toContain("Grant Amplify's key layout");
  });

  it('a path inside a scope that lacks the access: names what the scope gives', async () => {
    const s = withGrantErrors(provider(amplifyGrant), failing(accessDenied()));
    const err = await rejection(s.remove({ path: 'protected/bob/x.txt' }));
    expect(err.message).toMatch(
      /^access denied: remove "protected\/bob\/x.txt" needs delete; your Keyhole grant gives only read, list there\./,
    );
  });

  it('a multipart upload needs read too (HeadObject), unless crc-32 replaces the size check', async () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    const s = withGrantErrors(provider(amplifyGrant), failing(accessDenied()));
    const err = await rejection(s.uploadData({ path: 'public/big.bin', data: big }).result);
    expect(err.message).toContain(
      'uploadData "public/big.bin" needs write and read (an upload above 5 MiB is multipart',
    );
    expect(err.message).toContain('gives only write there');
    // With crc-32 the upload needs write alone, which the grant gives: the denial is not the grant's.
    const fresh = withGrantErrors(provider(amplifyGrant), failing(accessDenied()));
    const plain = await rejection(
      fresh.uploadData({ path: 'public/big.bin', data: big, options: { checksumAlgorithm: 'crc-32' } }).result,
    );
    expect(plain.message).toBe('Access Denied');
  });

  it('the older key + accessLevel inputs, list, download, getProperties and copy', async () => {
    const s = withGrantErrors(provider(usersGrant), failing(accessDenied()));
    expect(
      (await rejection(s.downloadData({ key: 'a.txt', options: { accessLevel: 'private' } }).result)).message,
    ).toContain('downloadData "private/alice/a.txt" needs read');
    expect(
      (await rejection(s.list({ key: 'x', options: { accessLevel: 'protected', targetIdentityId: 'bob' } }))).message,
    ).toContain('list "protected/bob/x" needs list');
    expect((await rejection(s.getProperties({ key: 'x' }))).message).toContain('getProperties "public/x" needs read');
    const copy = await rejection(s.copy({ source: { path: 'users/alice/a' }, destination: { path: 'public/a' } }));
    expect(copy.message).toContain('copy "public/a" needs write; your Keyhole grant gives no access there');
    expect(copy.message).not.toContain('users/alice/a" needs'); // the source is granted
  });

  it('denials the grant does not explain, and other errors, pass through unchanged', async () => {
    const inside = withGrantErrors(provider(usersGrant), failing(accessDenied()));
    const err = await rejection(inside.uploadData({ path: 'users/alice/ok.txt', data: 'x' }).result);
    expect(err.message).toBe('Access Denied');
    expect(err.recoverySuggestion).toBeUndefined();
    const other = new Error('NoSuchKey');
    other.name = 'NoSuchKey';
    const s = withGrantErrors(provider(usersGrant), failing(other));
    expect(await rejection(s.downloadData({ path: 'private/alice/x' }).result)).toBe(other);
  });

  it('keeps the task: cancel() and the live state are the task’s own; unknown functions untouched', async () => {
    const s = withGrantErrors(provider(usersGrant), failing(accessDenied()));
    const task = s.uploadData({ path: 'users/alice/x', data: 'x' });
    task.result.catch(() => {});
    expect(task.state).toBe('IN_PROGRESS');
    task.cancel();
    expect(task.state).toBe('CANCELED');
    expect(s.other()).toBe('untouched');
    expect(() => withGrantErrors({} as KeyholeAmplifyProvider, {})).toThrow(TypeError);
  });
});
