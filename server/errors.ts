import { BROKER_ERRORS, isBrokerErrorCode, type BrokerErrorCode } from '../client/protocol/errors.js';

export { BROKER_ERRORS, type BrokerErrorCode } from '../client/protocol/errors.js';

/**
 * Codes of errors raised while the broker starts (configuration), never sent over HTTP. Kept out
 * of {@link BROKER_ERRORS}: that list is the wire protocol, and no client ever sees these.
 */
export type StartupErrorCode = 'invalid_config';

/** Every code a {@link KeyholeError} can carry. */
export type KeyholeErrorCode = BrokerErrorCode | StartupErrorCode;

/** The broker codes whose registered status is `Status`: a subclass accepts only its own. */
export type BrokerErrorCodeWithStatus<Status extends number> = {
  [Code in BrokerErrorCode]: (typeof BROKER_ERRORS)[Code] extends Status ? Code : never;
}[BrokerErrorCode];

/**
 * Base class of every error Keyhole's server code throws. `code` is stable and safe to match on;
 * `status` is the HTTP status the broker answers with; `cause` keeps the underlying error.
 * `code` must be one of {@link BROKER_ERRORS}: an undeclared code does not compile.
 *
 * @example
 * ```ts
 * try { await vendor.issue(request) } catch (err) {
 *   if (err instanceof KeyholeError && err.code === 'sts_unavailable') retryLater()
 * }
 * ```
 */
export class KeyholeError extends Error {
  /** Stable, machine-readable error code, also sent as `error.code` in HTTP answers. */
  readonly code: KeyholeErrorCode;
  /** HTTP status code the broker answers with for this error. */
  readonly status: number;

  constructor(code: BrokerErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A {@link KeyholeError} the broker may answer with as it is: its code is in {@link BROKER_ERRORS}. */
export type BrokerError = KeyholeError & { readonly code: BrokerErrorCode };

/** True for a {@link KeyholeError} whose code is a broker code (so not a {@link ConfigError}). */
export function isBrokerError(err: unknown): err is BrokerError {
  return err instanceof KeyholeError && isBrokerErrorCode(err.code);
}

/**
 * A {@link KeyholeError} with the status {@link BROKER_ERRORS} registers for `code`, so the status
 * a route answers with and the documented one cannot drift apart.
 */
export function brokerError(code: BrokerErrorCode, message: string, options?: { cause?: unknown }): BrokerError {
  return new KeyholeError(code, BROKER_ERRORS[code], message, options) as BrokerError;
}

/** 401: no bearer token, or one that failed verification (signature, issuer, audience, time). */
export class AuthenticationError extends KeyholeError {
  constructor(code: BrokerErrorCodeWithStatus<401>, message: string, options?: { cause?: unknown }) {
    super(code, 401, message, options);
  }
}

/** 403: an authenticated caller asked for more than the grant allows, or cannot be granted safely. */
export class ForbiddenError extends KeyholeError {
  constructor(code: BrokerErrorCodeWithStatus<403>, message: string, options?: { cause?: unknown }) {
    super(code, 403, message, options);
  }
}

/** 400: a malformed request body, header or parameter. */
export class BadRequestError extends KeyholeError {
  constructor(code: BrokerErrorCodeWithStatus<400>, message: string, options?: { cause?: unknown }) {
    super(code, 400, message, options);
  }
}

/** 429: too many requests for this subject or client address; see `retryAfterSeconds`. */
export class RateLimitError extends KeyholeError {
  /** Whole seconds after which a retry may succeed; sent as `Retry-After`. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', 429, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * 502/503: the credential vendor (STS or Cognito) failed. `upstreamCode` is the vendor's own
 * error code (read from the raw response body, since RGW's errors reach the SDK as "UnknownError").
 */
export class UpstreamError extends KeyholeError {
  /** The vendor's own error code, such as `AccessDenied` or `PackedPolicyTooLarge`, when known. */
  readonly upstreamCode: string | undefined;

  constructor(
    code: BrokerErrorCodeWithStatus<502 | 503>,
    status: 502 | 503,
    message: string,
    upstreamCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, status, message, options);
    this.upstreamCode = upstreamCode;
  }
}

/**
 * Startup configuration error: `variable` names the environment variable that is wrong. Its code,
 * `invalid_config`, is not a broker code: should one ever reach a request, the broker answers it
 * as any unexpected error (500 `internal_error`) rather than echo configuration to a client.
 */
export class ConfigError extends KeyholeError {
  declare readonly code: StartupErrorCode;
  /** The environment variable (or option path) whose value is wrong. */
  readonly variable: string;
  /** What is wrong with it, without the variable's name: the message is `variable: reason`. */
  readonly reason: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    // The base constructor takes broker codes only, so the startup code is set just below.
    super('internal_error', 500, `${variable}: ${message}`, options);
    (this as { code: KeyholeErrorCode }).code = 'invalid_config';
    this.variable = variable;
    this.reason = message;
  }
}
