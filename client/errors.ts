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
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The broker refused or failed. `status` is its HTTP status; `code` its `error.code`. */
export class BrokerError extends KeyholeClientError {
  /** HTTP status from the broker; 0 when it could not be reached. */
  readonly status: number;
  /** Seconds the broker asked to wait (429), when given. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** A key was empty, absolute, had `.`/`..` or empty segments, control characters, or was too long. */
export class InvalidKeyError extends KeyholeClientError {
  constructor(message: string) {
    super('invalid_key', message);
  }
}

/**
 * An S3 operation failed. `code` is `access_denied`, `not_found`, `aborted`, `expired_credentials`,
 * `acl_not_allowed` (a command asked for an object ACL or grant; checked before anything is sent)
 * or `s3_error`; `s3Code` is S3's own error name when known.
 */
export class StorageError extends KeyholeClientError {
  /** S3's error code, such as `AccessDenied` or `NoSuchKey`. */
  readonly s3Code: string | undefined;
  /** HTTP status from S3, when known. */
  readonly status: number | undefined;

  constructor(
    code: string,
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
