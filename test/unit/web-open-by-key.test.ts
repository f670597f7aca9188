// Issue 17, point 10 (web): "Open by key" on a key that does not exist said `download of
// "video.mp4" failed`; it says "No such file", naming the key as typed, inside the prefix or not.
// (test/e2e/web-uploads.test.ts does it in Chromium against RGW.)
import { describe, expect, test, vi } from 'vitest';
import { BrokerError, StorageError } from '../../client/errors.js';
import { describe as message } from '../../client/web/src/messages.js';
import { openByKeyError } from '../../client/web/src/open-errors.js';

vi.mock('keyhole/client', () => import('../../client/index.js'));

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('Open by key on a missing key', () => {
  test('outside the prefix (S3 answers 404 NoSuchKey): no such file', () => {
    const err = openByKeyError(sdkError('NoSuchKey', 404), 'video.mp4');
    expect(err).toMatchObject({ code: 'not_found', s3Code: 'NoSuchKey', status: 404 });
    expect(message(err)).toEqual({ kind: 'error', text: 'No such file "video.mp4".' });
  });

  test('inside the prefix (the storage object’s not_found): no such file, with the full key as typed', () => {
    const fromStorage = new StorageError('not_found', '"video.mp4" does not exist', 'NoSuchKey', 404);
    const err = openByKeyError(fromStorage, 'users/dev-bob/video.mp4');
    expect(message(err)).toEqual({ kind: 'error', text: 'No such file "users/dev-bob/video.mp4".' });
    expect((err as Error).cause).toBe(fromStorage);
  });

  test('other failures keep their own words', () => {
    expect(message(openByKeyError(sdkError('AccessDenied', 403), 'other/x.txt'), { prefix: 'users/dev-bob/' })).toEqual(
      {
        kind: 'denied',
        text: 'Access denied: download "other/x.txt" is outside your grant. You can only use files under users/dev-bob/.',
      },
    );
    expect(message(openByKeyError(sdkError('InternalError', 500), 'other/x.txt'))).toEqual({
      kind: 'error',
      text: 'Storage error: download of "other/x.txt" failed: InternalError: InternalError',
    });
    const unreachable = new BrokerError(0, 'broker_unreachable', 'the Keyhole broker could not be reached');
    expect(openByKeyError(unreachable, 'x')).toBe(unreachable);
  });

  test('a not_found from the storage object elsewhere (the Download button) reads as a sentence', () => {
    expect(message(new StorageError('not_found', '"a.txt" does not exist', 'NoSuchKey', 404))).toEqual({
      kind: 'error',
      text: '"a.txt" does not exist.',
    });
  });
});
