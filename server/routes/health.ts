import type { RequestHandler } from 'express';

/** `GET /healthz`: `{ "status": "ok" }` while the process serves. It checks nothing else, on purpose. */
export const healthz: RequestHandler = (_req, res) => {
  res.set('Cache-Control', 'no-store').json({ status: 'ok' });
};
