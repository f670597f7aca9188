// Issue 17, point 10 (web): "Open by key" on a key that does not exist said `download of
// "video.mp4" failed`; it says "No such file", naming the key as typed, inside the prefix or not.
import { describe, expect, test, vi } from 'vitest';
import { StorageError } from '../../client/errors.js';
import { openByKey } from '../../client/web/src/file-list.js';
import { describe as message } from '../../client/web/src/messages.js';
import type { SignedIn } from '../../client/web/src/session.js';

vi.mock('keyhole/client', () => import('../../client/index.js'));

const missing = () =>
  Object.assign(new Error('The specified key does not exist.'), {
    name: 'NoSuchKey',
    $metadata: { httpStatusCode: 404 },
  });

function signedIn(sendError: unknown): SignedIn {
  return {
    grant: { prefix: 'users/dev-bob/', bucket: 'b' },
    storage: {
      download: async (key: string) => {
        throw new StorageError('not_found', `"${key}" does not exist`, 'NoSuchKey', 404);
      },
      client: async () => ({
        send: async () => {
          throw sendError;
        },
      }),
    },
  } as unknown as SignedIn;
}

async function reported(session: SignedIn, key: string): Promise<unknown> {
  const seen: unknown[] = [];
  await openByKey(session, { report: (err) => seen.push(err), clear: () => {} }, key);
  expect(seen).toHaveLength(1);
  return seen[0];
}

describe('Open by key on a missing key', () => {
  test('outside the prefix (S3 answers 404): no such file', async () => {
    const err = await reported(signedIn(missing()), 'video.mp4');
    expect(err).toMatchObject({ code: 'not_found', s3Code: 'NoSuchKey', status: 404 });
    expect(message(err)).toEqual({ kind: 'error', text: 'No such file "video.mp4".' });
  });

  test('inside the prefix: no such file, with the full key as typed', async () => {
    const err = await reported(signedIn(missing()), 'users/dev-bob/video.mp4');
    expect(message(err)).toEqual({ kind: 'error', text: 'No such file "users/dev-bob/video.mp4".' });
  });

  test('other failures keep their own words', async () => {
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    expect(message(await reported(signedIn(denied), 'other/x.txt'), { prefix: 'users/dev-bob/' })).toEqual({
      kind: 'denied',
      text: 'Access denied: download "other/x.txt" is outside your grant. You can only use files under users/dev-bob/.',
    });
    const broken = Object.assign(new Error('boom'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(message(await reported(signedIn(broken), 'other/x.txt'))).toEqual({
      kind: 'error',
      text: 'Storage error: download of "other/x.txt" failed',
    });
  });

  test('a not_found from the storage object elsewhere (the Download button) reads as a sentence', () => {
    expect(message(new StorageError('not_found', '"a.txt" does not exist', 'NoSuchKey', 404))).toEqual({
      kind: 'error',
      text: '"a.txt" does not exist.',
    });
  });
});
