import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { ErrorBody } from '../../client/protocol/errors.js';
import { brokerError, isBrokerError, RateLimitError, type BrokerError, type BrokerErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Writes `{ error: { code, message } }` with the given status; never a stack trace. On a route for
 * the AWS SDKs' HTTP credential provider (`res.locals.awsSdkErrorFields`), also its top-level
 * `Code` and `Message`, which the SDK attaches to the error it throws.
 */
export function sendError(res: Response, status: number, code: BrokerErrorCode, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  const sdk = res.locals.awsSdkErrorFields === true ? { Code: code, Message: message } : {};
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .json({ ...body, ...sdk });
}

/** The broker's last route: a JSON 404 `not_found` for any path nothing else answered. */
export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
};

// body-parser errors carry a `type` and a `status`; map the ones a client can cause. The status
// comes from the protocol's registry, with the code.
const BODY_ERRORS: Readonly<Record<string, readonly [BrokerErrorCode, string]>> = {
  'entity.parse.failed': ['malformed_body', 'the request body is not valid JSON'],
  'entity.too.large': ['body_too_large', 'the request body is too large'],
  'encoding.unsupported': ['unsupported_encoding', 'the request body encoding is not supported'],
  'charset.unsupported': ['unsupported_charset', 'the request body charset is not supported'],
  'request.aborted': ['request_aborted', 'the request was aborted'],
  'request.size.invalid': ['malformed_body', 'the request body size does not match Content-Length'],
};

/**
 * The status and code the broker answers `err` with: its own for a KeyholeError with a broker code,
 * the mapped one for a body-parser error, else 500 `internal_error` (a ConfigError included: its
 * code is not part of the protocol). Used by the error handler and by the audit log, so every
 * refusal is recorded with the same code the client sees.
 */
export function toKeyholeError(err: unknown): BrokerError {
  if (isBrokerError(err)) return err;
  const type = (err as { type?: unknown } | null)?.type;
  const bodyError = typeof type === 'string' && Object.hasOwn(BODY_ERRORS, type) ? BODY_ERRORS[type] : undefined;
  if (bodyError) return brokerError(bodyError[0], bodyError[1], { cause: err });
  return brokerError('internal_error', 'internal error', { cause: err });
}

/** `Retry-After` of a 503 (STS or Cognito throttling or unreachable): short, STS throttles per second. */
export const UPSTREAM_RETRY_AFTER_SECONDS = 1;

/** What the broker answers an error with: status, extra headers, and the error body's code and message. */
export interface ErrorAnswer {
  readonly status: number;
  readonly code: BrokerErrorCode;
  readonly message: string;
  /** `Retry-After` for a rate limit or a 503. */
  readonly retryAfterSeconds?: number;
}

/** Where an error happened, for its log line. */
export interface ErrorContext {
  readonly requestId: string | undefined;
  readonly method: string | undefined;
  readonly path: string;
}

/**
 * Decides the answer to `err` and logs what an operator must see: a KeyholeError answers with its
 * status and code (5xx also logged), a body-parser error with its mapped code, anything else with a
 * logged 500 `internal_error`. Shared by the Express error handler and the credentials fast path
 * (server/routes/credentials-fast-path.ts), so both answer and log the same.
 */
export function errorAnswer(err: unknown, context: ErrorContext, logger: Logger): ErrorAnswer {
  if (isBrokerError(err)) {
    const retryAfterSeconds =
      err instanceof RateLimitError
        ? err.retryAfterSeconds
        : // 503: the vendor is throttling or down; clients (keyhole/client does) back off and retry.
          err.status === 503
          ? UPSTREAM_RETRY_AFTER_SECONDS
          : undefined;
    if (err.status >= 500) {
      logger.warn({
        event: 'request.failed',
        requestId: context.requestId,
        code: err.code,
        err: { message: err.message, cause: String((err.cause as Error)?.message ?? '') },
      });
    }
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    };
  }
  const mapped = toKeyholeError(err);
  if (mapped.code !== 'internal_error') return { status: mapped.status, code: mapped.code, message: mapped.message };
  const e = err as { message?: unknown; stack?: unknown } | null | undefined;
  logger.error({
    event: 'request.crashed',
    requestId: context.requestId,
    method: context.method,
    path: context.path,
    err: { message: String(e?.message ?? err), stack: String(e?.stack ?? '') },
  });
  return { status: 500, code: 'internal_error', message: 'internal error' };
}

/**
 * Writes {@link errorAnswer}'s answer on a plain Node response, as {@link errorHandler} does through
 * Express: the status, `Retry-After` when there is one, `Cache-Control: no-store` and the JSON body.
 */
export function writeErrorAnswer(res: ServerResponse, answer: ErrorAnswer): void {
  const body: ErrorBody = { error: { code: answer.code, message: answer.message } };
  const text = JSON.stringify(body);
  if (answer.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(answer.retryAfterSeconds));
  res.statusCode = answer.status;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * The broker's error handler: answers with {@link errorAnswer}'s status, `Retry-After` and code.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    if (res.headersSent) return;
    const answer = errorAnswer(err, { requestId: res.locals.requestId, method: req.method, path: req.path }, logger);
    if (answer.retryAfterSeconds !== undefined) res.set('Retry-After', String(answer.retryAfterSeconds));
    sendError(res, answer.status, answer.code, answer.message);
  };
}
