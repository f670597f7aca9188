/**
 * Base class of every error Keyhole's server code throws. `code` is stable and safe to match on;
 * `status` is the HTTP status the broker answers with; `cause` keeps the underlying error.
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
  readonly code: string;
  /** HTTP status code the broker answers with for this error. */
  readonly status: number;

  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** 401: no bearer token, or one that failed verification (signature, issuer, audience, time). */
export class AuthenticationError extends KeyholeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, 401, message, options);
  }
}

/** 403: an authenticated caller asked for more than the grant allows, or cannot be granted safely. */
export class ForbiddenError extends KeyholeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, 403, message, options);
  }
}

/** 400: a malformed request body, header or parameter. */
export class BadRequestError extends KeyholeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
    code: string,
    status: 502 | 503,
    message: string,
    upstreamCode: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(code, status, message, options);
    this.upstreamCode = upstreamCode;
  }
}

/** Startup configuration error: `variable` names the environment variable that is wrong. */
export class ConfigError extends KeyholeError {
  /** The environment variable (or option path) whose value is wrong. */
  readonly variable: string;

  constructor(variable: string, message: string, options?: { cause?: unknown }) {
    super('invalid_config', 500, `${variable}: ${message}`, options);
    this.variable = variable;
  }
}
