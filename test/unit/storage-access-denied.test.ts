// A 403 on a key inside the granted prefix, when the grant lacks the access the action needs, says
// which access is missing ("your grant does not allow write"), not that the key is outside the grant.
// The CLI and the web app both show this message. Against the in-memory S3 behind the real SDK.
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../client/index.js';
import { toStorageError } from '../../client/storage-errors.js';
import { fakeStorage } from '../helpers/fake-storage.js';

function storageWith(access: string[]) {
  const { s3, storage } = fakeStorage({ grant: { access } });
  // The store refuses everything, as S3 does for an action the session policy leaves out.
  s3.fault = () => Promise.resolve({ status: 403, code: 'AccessDenied' });
  return storage;
}

async function denial(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'access_denied', status: 403 });
    return err as StorageError;
  }
  throw new Error('expected access_denied');
}

describe('access denied names the missing access', () => {
  it('upload with a read-only grant: write is not allowed', async () => {
    const storage = storageWith(['read', 'list']);
    expect((await denial(storage.upload('in/prefix.txt', 'hi'))).message).toBe(
      'access denied: your grant does not allow write (upload "in/prefix.txt"; it allows read, list)',
    );
  });

  it('download and head need read, list needs list, delete needs delete', async () => {
    const writeOnly = storageWith(['write']);
    expect((await denial(writeOnly.download('a.txt'))).message).toBe(
      'access denied: your grant does not allow read (download "a.txt"; it allows write)',
    );
    expect((await denial(writeOnly.head('a.txt'))).message).toBe(
      'access denied: your grant does not allow read (head "a.txt"; it allows write)',
    );
    expect((await denial(writeOnly.listPage({ prefix: 'sub/' }))).message).toBe(
      'access denied: your grant does not allow list (list "sub/"; it allows write)',
    );
    const noDelete = storageWith(['read', 'write', 'list']);
    expect((await denial(noDelete.delete('d.txt'))).message).toBe(
      'access denied: your grant does not allow delete (delete "d.txt"; it allows read, write, list)',
    );
  });

  it('with the access granted, a 403 still means the key is outside the grant', async () => {
    const full = storageWith(['read', 'write', 'list', 'delete']);
    expect((await denial(full.upload('x.txt', 'hi'))).message).toBe(
      'access denied: upload "x.txt" is outside your grant',
    );
    expect((await denial(full.download('x.txt'))).message).toBe(
      'access denied: download "x.txt" is outside your grant',
    );
  });

  it('toStorageError: without the grant’s access, or for an action it does not know, the old message', () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(toStorageError(denied, 'upload', 'k').message).toBe('access denied: upload "k" is outside your grant');
    expect(toStorageError(denied, 'copy', 'k', ['read']).message).toBe('access denied: copy "k" is outside your grant');
    expect(toStorageError(denied, 'upload', 'k', []).message).toBe(
      'access denied: your grant does not allow write (upload "k"; it allows nothing)',
    );
  });
});
