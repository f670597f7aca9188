// What "Open by key" says when a download fails: a key that does not exist is "no such file",
// named as typed; outside the grant S3 says no; anything else keeps S3's own error name. Apart from
// the DOM (file-list.ts), so the sentences are unit-tested in Node.
import { KeyholeClientError, StorageError } from 'keyhole/client';
import { toStorageError } from '../../storage-errors.js';

/** "no such file" for a key that does not exist, named in full as it was typed. */
export function noSuchFile(
  key: string,
  s3Code: string | undefined,
  status: number | undefined,
  cause: unknown,
): StorageError {
  return new StorageError('not_found', `no such file "${key}"`, s3Code, status, { cause });
}

/**
 * The error to report for a failed "Open by key" of `key` (the full key, as typed): `err` is a
 * StorageError from the storage object (a key under the prefix) or the SDK's own error (any other).
 */
export function openByKeyError(err: unknown, key: string): unknown {
  if (err instanceof StorageError) return err.code === 'not_found' ? noSuchFile(key, err.s3Code, err.status, err) : err;
  // The broker's or the client's own errors (unreachable, signed out...) are not about the key.
  if (err instanceof KeyholeClientError) return err;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name;
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') return noSuchFile(key, name, status, err);
  // A key outside the prefix: no access of the grant applies there, so the storage object's own words
  // ("access denied: download "k" is outside your grant", or S3's error name) are the right ones.
  return toStorageError(err, 'download', key);
}
