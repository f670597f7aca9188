import { ForbiddenError } from '../errors.js';
import type { ResolvedSessionOptions } from '../grants.js';
import { sourceCidrFor } from '../http/source-cidr.js';
import type { SessionRestrictions } from './session-policy.js';

/**
 * Turns a grant's session options into this request's policy restrictions: the caller's network
 * when the grant binds credentials to it, and the token's `exp` as the credentials' last instant.
 * Refuses (403 `unknown_client_address`) to bind to an address it cannot read.
 */
export function sessionRestrictions(
  session: ResolvedSessionOptions,
  clientAddress: string | undefined,
  tokenExp: number | undefined,
): SessionRestrictions {
  let sourceCidr: string | undefined;
  if (session.bindSourceIp) {
    sourceCidr = sourceCidrFor(clientAddress, session.bindSourceIp);
    if (sourceCidr === undefined) {
      throw new ForbiddenError(
        'unknown_client_address',
        'this grant binds credentials to the client address, and the broker could not read it',
      );
    }
  }
  return {
    ...(sourceCidr !== undefined ? { sourceCidr } : {}),
    ...(session.expireWithToken && typeof tokenExp === 'number' ? { notAfter: new Date(tokenExp * 1000) } : {}),
    allowPresignedUrls: session.allowPresignedUrls,
    allowTagging: session.allowTagging,
  };
}
