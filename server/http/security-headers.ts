import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The broker's response headers: helmet's, with a CSP for a JSON API (no content to frame, sniff
 * or embed), then CORS for exactly `corsOrigins` (none by default). The browser may read
 * `Retry-After` (backoff), `X-Request-Id` (support) and `Date` (clock-skew correction).
 */
export function securityHeaders(corsOrigins: readonly string[]): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
    }),
    cors({
      origin: [...corsOrigins],
      methods: ['POST', 'GET'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'X-Request-Id', 'Date'],
      maxAge: 600,
    }),
  ];
}
