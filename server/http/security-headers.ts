import type { ServerResponse } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** One header change a middleware made: set a value, or remove the header. */
export type HeaderStep = readonly ['set', string, string | number | readonly string[]] | readonly ['remove', string];

/**
 * What `middleware` does to a response that does not depend on the request: its setHeader and
 * removeHeader calls, in order, recorded once on a stand-in response. Throws if it does anything
 * else (reads the request, fails, or does not call `next` at once), so a helmet version whose
 * headers vary per request is refused at startup rather than frozen.
 */
export function recordStaticHeaders(middleware: RequestHandler): readonly HeaderStep[] {
  const req = new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`security headers read the request (${String(property)}); they cannot be precomputed`);
      },
    },
  );
  return recordHeaders(middleware, req);
}

/**
 * What `middleware` does to the headers of a response to `req` (a stand-in with the fields it
 * reads), recorded on an empty stand-in response. Throws if it fails or does not call `next` at once.
 */
function recordHeaders(middleware: RequestHandler, req: object): readonly HeaderStep[] {
  const steps: HeaderStep[] = [];
  const current = new Map<string, string | number | readonly string[]>();
  const res = {
    getHeader: (name: string) => current.get(name.toLowerCase()),
    setHeader: (name: string, value: string | number | readonly string[]) => {
      current.set(name.toLowerCase(), value);
      steps.push(['set', name, value]);
    },
    removeHeader: (name: string) => {
      current.delete(name.toLowerCase());
      steps.push(['remove', name]);
    },
  };
  let done = false;
  void middleware(req as never, res as never, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
    done = true;
  });
  if (!done) throw new Error('security headers did not finish at once; they cannot be precomputed');
  return steps;
}

/** Applies recorded header steps to a response. */
export function applyHeaders(
  res: Pick<ServerResponse, 'setHeader' | 'removeHeader'>,
  steps: readonly HeaderStep[],
): void {
  for (const step of steps) {
    if (step[0] === 'set') res.setHeader(step[1], step[2]);
    else res.removeHeader(step[1]);
  }
}

/** Replays {@link recordStaticHeaders}'s steps on each response: helmet's headers, without its per-request chain. */
function staticHeaders(steps: readonly HeaderStep[]): RequestHandler {
  return (_req, res, next) => {
    applyHeaders(res, steps);
    next();
  };
}

/**
 * The headers `steps` leave on a response that had none, in the order Node writes them, as the flat
 * `[name, value, ...]` list `response.writeHead` takes: a header set again keeps its place, one
 * removed and set again moves to the end, and a list value becomes one pair per item, as Node
 * writes it. Writing these at once skips a `setHeader` per header per response.
 */
export function rawHeaders(steps: readonly HeaderStep[]): readonly string[] {
  const current = new Map<string, readonly [string, string | number | readonly string[]]>();
  for (const step of steps) {
    // As Node's setHeader: the latest spelling and value, at the place the name was first set.
    if (step[0] === 'set') current.set(step[1].toLowerCase(), [step[1], step[2]]);
    else current.delete(step[1].toLowerCase());
  }
  const raw: string[] = [];
  for (const [name, value] of current.values()) {
    for (const item of Array.isArray(value) ? value : [value]) raw.push(name, String(item));
  }
  return raw;
}

/** Helmet's headers, with a CSP for a JSON API (no content to frame, sniff or embed). */
export function apiHelmet(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
}

/** The broker's response headers: the middlewares that set them, and the same headers precomputed. */
export interface BrokerHeaders {
  /** Helmet's headers, then CORS: the first middlewares of every request. */
  readonly middlewares: readonly RequestHandler[];
  /**
   * The headers {@link middlewares} set on a response to a `method` request from `origin` (absent,
   * or one of the CORS origins), as steps recorded once from those middlewares themselves and
   * remembered; undefined for any other origin (those are logged and answered by Express).
   */
  forRequest(method: 'POST', origin: string | undefined): readonly HeaderStep[] | undefined;
}

/**
 * The broker's response headers: helmet's (see {@link apiHelmet}; computed once, set on every
 * response), then CORS for exactly `corsOrigins` (none by default). The browser may read
 * `Retry-After` (backoff), `X-Request-Id` (support) and `Date` (clock-skew correction).
 */
export function securityHeaders(corsOrigins: readonly string[]): BrokerHeaders {
  const helmetSteps = recordStaticHeaders(apiHelmet());
  const corsMiddleware = cors({
    origin: [...corsOrigins],
    methods: ['POST', 'GET'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Date'],
    maxAge: 600,
  });
  const allowed = new Set(corsOrigins);
  const recorded = new Map<string | undefined, readonly HeaderStep[]>();
  return {
    middlewares: [staticHeaders(helmetSteps), corsMiddleware],
    forRequest(method, origin) {
      if (origin !== undefined && !allowed.has(origin)) return undefined;
      let steps = recorded.get(origin);
      if (!steps) {
        const headers = origin === undefined ? {} : { origin };
        steps = [...helmetSteps, ...recordHeaders(corsMiddleware, { method, headers })];
        recorded.set(origin, steps);
      }
      return steps;
    },
  };
}
