import { KeyholeClientError, StorageError } from './errors.js';

/**
 * Maps an AWS SDK failure of `action` on `key` to a {@link StorageError} with a stable code:
 * `aborted`, `access_denied`, `not_found`, `expired_credentials`, else `s3_error` with S3's own
 * error name. Errors of this package (`SignedOutError`, `acl_not_allowed`...) pass through as they are.
 */
export function toStorageError(err: unknown, action: string, key: string): KeyholeClientError {
  if (err instanceof KeyholeClientError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name;
  if (name === 'AbortError' || name === 'RequestAbortedError') {
    return new StorageError('aborted', `${action} of "${key}" was cancelled`, name, status, { cause: err });
  }
  if (status === 403 || name === 'AccessDenied') {
    return new StorageError('access_denied', `access denied: ${action} "${key}" is outside your grant`, name, status, {
      cause: err,
    });
  }
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') {
    return new StorageError('not_found', `"${key}" does not exist`, name, status, { cause: err });
  }
  if (name === 'ExpiredToken' || name === 'InvalidToken' || name === 'TokenRefreshRequired') {
    return new StorageError('expired_credentials', `${action} failed: credentials expired`, name, status, {
      cause: err,
    });
  }
  return new StorageError(
    's3_error',
    `${action} of "${key}" failed: ${name ?? 'error'}${e?.message ? `: ${e.message}` : ''}`,
    name,
    status,
    { cause: err },
  );
}
