import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationError } from '../errors.js';

/** Reads the bearer token from `Authorization`. Throws 401 when absent or malformed. */
export function bearerToken(req: { readonly headers: IncomingHttpHeaders }): string {
  const header = req.headers.authorization;
  if (!header) throw new AuthenticationError('missing_token', 'an Authorization: Bearer <JWT> header is required');
  const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/.exec(header);
  if (!match) throw new AuthenticationError('malformed_token', 'the Authorization header must be "Bearer <JWT>"');
  return match[1]!;
}
