import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Gives every request a fresh random id, in `res.locals.requestId` and the `X-Request-Id` header.
 * The audit log records the same id, so a user's report can be matched to its log lines. A client's
 * own X-Request-Id is ignored: it would let a caller forge or collide with another's log trail.
 */
export const requestId: RequestHandler = (_req, res, next) => {
  res.locals.requestId = randomUUID();
  res.set('X-Request-Id', res.locals.requestId);
  next();
};
