import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

/** How often one refused origin is logged at most, in ms. */
export const REFUSED_ORIGIN_LOG_INTERVAL_MS = 60_000;
// Origins remembered at most; a flood of made-up origins cannot grow the map past this.
const MAX_REMEMBERED = 1000;
const MAX_ORIGIN_CHARS = 200;

/**
 * Logs a request from a browser origin that the CORS allow-list does not name (`cors.refused`, a
 * warning), at most once per origin per minute. The broker still answers, without CORS headers, so
 * the browser hides the answer from the page: without this line the operator sees nothing, and the
 * page only a network error. Same-origin requests (the web app served by the broker sends `Origin`
 * on its POSTs) are not refusals. `now` is injectable for tests.
 */
export function refusedOrigins(
  corsOrigins: readonly string[],
  logger: Logger,
  now: () => number = Date.now,
): RequestHandler {
  const allowed = new Set(corsOrigins);
  const lastLogged = new Map<string, number>();
  return (req, _res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin) && !isSameOrigin(origin, req.headers.host)) {
      const at = now();
      const last = lastLogged.get(origin);
      if (last === undefined || at - last >= REFUSED_ORIGIN_LOG_INTERVAL_MS) {
        if (lastLogged.size >= MAX_REMEMBERED) forgetOld(lastLogged, at);
        lastLogged.set(origin, at);
        const shown = printable(origin);
        logger.warn(
          { event: 'cors.refused', origin: shown, method: req.method, path: req.path },
          `origin ${shown} is not in KEYHOLE_CORS_ORIGINS (options.corsOrigins): the browser will not let its ` +
            'pages read the broker’s answers; add it if it is your app',
        );
      }
    }
    next();
  };
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function forgetOld(lastLogged: Map<string, number>, at: number): void {
  for (const [origin, when] of lastLogged) {
    if (at - when >= REFUSED_ORIGIN_LOG_INTERVAL_MS) lastLogged.delete(origin);
  }
  if (lastLogged.size >= MAX_REMEMBERED) lastLogged.clear();
}

// The header is the client's text: no control characters, and not too long, in a log line.
function printable(origin: string): string {
  const clean = origin.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > MAX_ORIGIN_CHARS ? `${clean.slice(0, MAX_ORIGIN_CHARS)}…` : clean;
}
