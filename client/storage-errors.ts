import { KeyholeClientError, StorageError } from './errors.js';
import type { Access } from './protocol/access.js';

/** The access each action needs on the granted prefix. */
const NEEDS: Readonly<Record<string, Access>> = {
  upload: 'write',
  download: 'read',
  head: 'read',
  list: 'list',
  delete: 'delete',
};

/**
 * Maps an AWS SDK failure of `action` on `key` to a {@link StorageError} with a stable code:
 * `aborted`, `access_denied`, `not_found`, `expired_credentials`, else `s3_error` with S3's own
 * error name. Errors of this package (`SignedOutError`, `acl_not_allowed`...) pass through as they are.
 * A 403 names the missing access when `access` (the grant's) lacks what `action` needs, since the
 * key was then inside the prefix; otherwise it says the key is outside the grant.
 */
export function toStorageError(
  err: unknown,
  action: string,
  key: string,
  access?: readonly Access[],
): KeyholeClientError {
  if (err instanceof KeyholeClientError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name;
  if (name === 'AbortError' || name === 'RequestAbortedError') {
    return new StorageError('aborted', `${action} of "${key}" was cancelled`, name, status, { cause: err });
  }
  if (status === 403 || name === 'AccessDenied') {
    const need = NEEDS[action];
    const why =
      access && need && !access.includes(need)
        ? `your grant does not allow ${need} (${action} "${key}"; it allows ${access.join(', ') || 'nothing'})`
        : `${action} "${key}" is outside your grant`;
    return new StorageError('access_denied', `access denied: ${why}`, name, status, { cause: err });
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
