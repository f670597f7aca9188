import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { KeyholeError, RateLimitError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Writes `{ error: { code, message } }` with the given status; never a stack trace. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error: { code, message } });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
};

// body-parser errors carry a `type` and a `status`; map the ones a client can cause.
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'malformed_body', 'the request body is not valid JSON'],
  'entity.too.large': [413, 'body_too_large', 'the request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'the request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_charset', 'the request body charset is not supported'],
  'request.aborted': [400, 'request_aborted', 'the request was aborted'],
  'request.size.invalid': [400, 'malformed_body', 'the request body size does not match Content-Length'],
};

/**
 * The status and code the broker answers `err` with: its own for a KeyholeError, the mapped one for
 * a body-parser error, else 500 `internal_error`. Used by the error handler and by the audit log,
 * so every refusal is recorded with the same code the client sees.
 */
export function toKeyholeError(err: unknown): KeyholeError {
  if (err instanceof KeyholeError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  const bodyError = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
  if (bodyError) return new KeyholeError(bodyError[1], bodyError[0], bodyError[2], { cause: err });
  return new KeyholeError('internal_error', 500, 'internal error', { cause: err });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    void _next;
    if (res.headersSent) return;
    if (err instanceof KeyholeError) {
      if (err instanceof RateLimitError) res.set('Retry-After', String(err.retryAfterSeconds));
      if (err.status >= 500) {
        logger.warn({
          event: 'request.failed',
          requestId: res.locals.requestId,
          code: err.code,
          err: { message: err.message, cause: String((err.cause as Error)?.message ?? '') },
        });
      }
      sendError(res, err.status, err.code, err.message);
      return;
    }
    const mapped = toKeyholeError(err);
    if (mapped.code !== 'internal_error') {
      sendError(res, mapped.status, mapped.code, mapped.message);
      return;
    }
    logger.error({
      event: 'request.crashed',
      requestId: res.locals.requestId,
      method: req.method,
      path: req.path,
      err: { message: String(err?.message ?? err), stack: String(err?.stack ?? '') },
    });
    sendError(res, 500, 'internal_error', 'internal error');
  };
}
