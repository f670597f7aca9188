import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';

/** `GET /metrics`: the broker's Prometheus registry, in its own text format. */
export function metricsHandler(registry: Registry): RequestHandler {
  return async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  };
}
