import type { RequestHandler } from 'express';

/**
 * `GET /healthz`: `{ "status": "ok" }` while the process serves. It checks nothing else, on purpose.
 * Any site may load it (`Cross-Origin-Resource-Policy: cross-origin`, no CORS headers, so a page
 * still cannot read it): keyhole/client's no-cors probe tells a CORS refusal from an unreachable broker.
 */
export const healthz: RequestHandler = (_req, res) => {
  res.set({ 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'cross-origin' }).json({ status: 'ok' });
};
