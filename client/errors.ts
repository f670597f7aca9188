import type { BrokerErrorCode } from './protocol/errors.js';

/**
 * Every `code` that `keyhole/client`, `keyhole/amplify` and the `keyhole` command produce themselves.
 * Broker errors pass the broker's own `error.code` through as well (see `BROKER_ERRORS` in the
 * protocol), and `http_<status>` when the broker's error body was not one of ours.
 * The table of client error codes in client/README.md is checked against this list.
 */
export const CLIENT_ERROR_CODES = Object.freeze([
  // BrokerError
  'broker_unreachable',
  'cors_blocked',
  'invalid_response',
  // KeyholeClientError: getToken() failed or gave no token
  'token_unavailable',
  // SignedOutError
  'signed_out',
  // InvalidKeyError
  'invalid_key',
  // StorageError
  'access_denied',
  'not_found',
  'aborted',
  'expired_credentials',
  'acl_not_allowed',
  's3_error',
  'cleanup_failed',
  // UploadRejectedError: refused before sending by the upload's `expect` rules
  'upload_rejected',
  // The keyhole command (CliError), besides the codes above and the broker's
  'usage',
  'local_file',
  'key_collision',
  's3_unavailable',
  'dev_login_disabled',
  'dev_login_failed',
  'internal_error',
] as const);

/** A code from {@link CLIENT_ERROR_CODES}. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * `code` of a {@link BrokerError}: the broker's `error.code`, `http_<status>` when its error body
 * was not Keyhole's, `broker_unreachable`, `cors_blocked` or `invalid_response`. A newer broker may
 * send a code this version does not know yet, hence the open `string` (which keeps the known ones suggested).
 */
export type BrokerErrorCodeSeen =
  BrokerErrorCode | `http_${number}` | 'broker_unreachable' | 'cors_blocked' | 'invalid_response' | (string & {});

/** `code` of a {@link StorageError}. */
export type StorageErrorCode =
  'access_denied' | 'not_found' | 'aborted' | 'expired_credentials' | 'acl_not_allowed' | 's3_error' | 'cleanup_failed';

/** `code` of any {@link KeyholeClientError}. */
export type KeyholeErrorCode = ClientErrorCode | BrokerErrorCodeSeen;

/**
 * Base class of every error `keyhole/client` throws. `code` is stable; `cause` keeps the original.
 *
 * @example
 * ```ts
 * try { await storage.upload('a.txt', bytes) } catch (err) {
 *   if (err instanceof KeyholeClientError && err.code === 'access_denied') showDenied()
 * }
 * ```
 */
export class KeyholeClientError extends Error {
  /** Stable, machine-readable code. */
  readonly code: KeyholeErrorCode;

  constructor(code: KeyholeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The broker refused or failed. `status` is its HTTP status; `code` its `error.code`. */
export class BrokerError extends KeyholeClientError {
  declare readonly code: BrokerErrorCodeSeen;
  /** HTTP status from the broker; 0 when it could not be reached. */
  readonly status: number;
  /** Seconds the broker asked to wait (429), when given. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: BrokerErrorCodeSeen,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/**
 * The broker answered with a success status, but not with a Keyhole credentials response: the body
 * is not JSON, a field is missing or empty, or a value is out of bounds (a prefix that is not a
 * relative folder, an endpoint that is not http(s), an unknown access...). Nothing from it is used,
 * and it is not retried: the same server would answer the same. Usually `brokerUrl` points to
 * something other than a Keyhole broker (a web server, a proxy's page).
 */
export class InvalidResponseError extends BrokerError {
  /** What was wrong, one sentence each, naming the field (`prefix must end with "/"`). */
  readonly problems: readonly string[];

  constructor(status: number, problems: readonly string[], message: string, options?: { cause?: unknown }) {
    super(status, 'invalid_response', message, options);
    this.problems = Object.freeze([...problems]);
  }
}

/** A key was empty, absolute, had `.`/`..` or empty segments, control characters, or was too long. */
export class InvalidKeyError extends KeyholeClientError {
  declare readonly code: 'invalid_key';

  constructor(message: string) {
    super('invalid_key', message);
  }
}

/**
 * Thrown (code `signed_out`) by an S3 client or operation that belonged to an identity which has
 * since signed out: a `storage.client()` reference kept across `storage.signOut()` /
 * `credentials.clear()`, an upload still running at sign-out, or a call that straddled the sign-out.
 * No request is signed for it; ask `storage.client()` again for a client of the current user.
 */
export class SignedOutError extends KeyholeClientError {
  declare readonly code: 'signed_out';

  constructor(
    message = 'signed out: this client belonged to a user who has since signed out',
    options?: { cause?: unknown },
  ) {
    super('signed_out', message, options);
  }
}

/**
 * An S3 operation failed. `code` is `access_denied`, `not_found`, `aborted`, `expired_credentials`,
 * `acl_not_allowed` (a command asked for an object ACL or grant; checked before anything is sent),
 * `s3_error`, or `cleanup_failed` (the operation failed and aborting its multipart upload failed
 * too); `s3Code` is S3's own error name when known.
 */
export class StorageError extends KeyholeClientError {
  declare readonly code: StorageErrorCode;
  /** S3's error code, such as `AccessDenied` or `NoSuchKey`. */
  readonly s3Code: string | undefined;
  /** HTTP status from S3, when known. */
  readonly status: number | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    s3Code: string | undefined,
    status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.s3Code = s3Code;
    this.status = status;
  }
}
