import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

type HeaderStep = readonly ['set', string, string | number | readonly string[]] | readonly ['remove', string];

/**
 * What `middleware` does to a response that does not depend on the request: its setHeader and
 * removeHeader calls, in order, recorded once on a stand-in response. Throws if it does anything
 * else (reads the request, fails, or does not call `next` at once), so a helmet version whose
 * headers vary per request is refused at startup rather than frozen.
 */
export function recordStaticHeaders(middleware: RequestHandler): readonly HeaderStep[] {
  const steps: HeaderStep[] = [];
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => void steps.push(['set', name, value]),
    removeHeader: (name: string) => void steps.push(['remove', name]),
  };
  const req = new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`security headers read the request (${String(property)}); they cannot be precomputed`);
      },
    },
  );
  let done = false;
  void middleware(req as never, res as never, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    done = true;
  });
  if (!done) throw new Error('security headers did not finish at once; they cannot be precomputed');
  return steps;
}

/** Replays {@link recordStaticHeaders}'s steps on each response: helmet's headers, without its per-request chain. */
function staticHeaders(steps: readonly HeaderStep[]): RequestHandler {
  return (_req, res, next) => {
    for (const step of steps) {
      if (step[0] === 'set') res.setHeader(step[1], step[2]);
      else res.removeHeader(step[1]);
    }
    next();
  };
}

/** Helmet's headers, with a CSP for a JSON API (no content to frame, sniff or embed). */
export function apiHelmet(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
}

/**
 * The broker's response headers: helmet's (see {@link apiHelmet}; computed once, set on every
 * response), then CORS for exactly `corsOrigins` (none by default). The browser may read
 * `Retry-After` (backoff), `X-Request-Id` (support) and `Date` (clock-skew correction).
 */
export function securityHeaders(corsOrigins: readonly string[]): RequestHandler[] {
  return [
    staticHeaders(recordStaticHeaders(apiHelmet())),
    cors({
      origin: [...corsOrigins],
      methods: ['POST', 'GET'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'X-Request-Id', 'Date'],
      maxAge: 600,
    }),
  ];
}
