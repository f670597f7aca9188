import * as z from 'zod/mini';

/**
 * Every `error.code` the broker sends, with the HTTP status it comes with. The one list: the
 * server's error classes accept only these codes (and take their status from here), and the
 * table in server/README.md (HTTP API) is checked against it by `test/unit/readme-error-codes.test.ts`.
 *
 * `/readyz` is the one exception to "status per code": it answers every failed check with 503,
 * naming the check's code (a vendor's `sts_error` included), so that a load balancer only ever
 * sees "not ready".
 */
export const BROKER_ERRORS = Object.freeze({
  // 400: the request itself is malformed.
  invalid_body: 400,
  invalid_key: 400,
  malformed_body: 400,
  request_aborted: 400,
  // 401: no bearer token, or one that fails verification.
  missing_token: 401,
  malformed_token: 401,
  token_too_large: 401,
  invalid_token: 401,
  invalid_signature: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_lifetime_too_long: 401,
  token_too_old: 401,
  invalid_iss: 401,
  invalid_aud: 401,
  invalid_sub: 401,
  invalid_exp: 401,
  unknown_key: 401,
  algorithm_not_allowed: 401,
  // 403: authenticated, but this cannot be granted.
  access_not_granted: 403,
  no_grant: 403,
  unsupported_subject: 403,
  grant_too_large: 403,
  unknown_client_address: 403,
  dev_login_remote: 403,
  key_not_granted: 403,
  // 404, 413, 415, 429: routing and transport.
  not_found: 404,
  object_not_found: 404,
  body_too_large: 413,
  unsupported_media_type: 415,
  unsupported_charset: 415,
  unsupported_encoding: 415,
  rate_limited: 429,
  // 5xx: the broker or what it depends on.
  internal_error: 500,
  sts_error: 502,
  cognito_error: 502,
  storage_error: 502,
  sts_unavailable: 503,
  cognito_unavailable: 503,
  jwks_unavailable: 503,
  // 503 from /readyz only.
  not_ready: 503,
  bucket_unchecked: 503,
  bucket_not_hardened: 503,
} as const);

/** A code the broker may send in `error.code`. */
export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

/** The HTTP status that comes with `code` (see {@link BROKER_ERRORS}). */
export type BrokerErrorStatus<Code extends BrokerErrorCode = BrokerErrorCode> = (typeof BROKER_ERRORS)[Code];

/** True when `code` is one of {@link BROKER_ERRORS}' codes (and not, say, `toString`). */
export function isBrokerErrorCode(code: unknown): code is BrokerErrorCode {
  return typeof code === 'string' && Object.hasOwn(BROKER_ERRORS, code);
}

/** HTTP error body of every broker error: `{ "error": { "code", "message" } }`. */
export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string().check(z.minLength(1)), message: z.string() }),
});

/** HTTP error body of every broker error. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
