// Who may sign in: dev login (local development only) and the trusted JWT issuer.
import type { KeyObject } from 'node:crypto';
import { isLoopbackHost } from '../auth/dev-login.js';
import { listAlgorithms, parsePublicKeyPem } from '../auth/key-algorithms.js';
import type { TrustedIssuer } from '../auth/verify-token.js';
import type { Problems } from './problems.js';
import type { Variables } from './schema.js';

/** Dev login signs in anyone as anyone: it must never sit next to real users or face a network. */
export function checkDevLogin(c: Variables, problems: Problems): void {
  if (problems.anyUnreadable(['KEYHOLE_DEV_LOGIN']) || !c.KEYHOLE_DEV_LOGIN) return;
  if (c.NODE_ENV === 'production') {
    problems.add('KEYHOLE_DEV_LOGIN', 'must not be enabled when NODE_ENV=production');
  } else if (c.KEYHOLE_JWT_ISSUER !== undefined) {
    problems.add(
      'KEYHOLE_DEV_LOGIN',
      'must not be enabled together with KEYHOLE_JWT_ISSUER: anyone could sign in as your real users; unset one of them',
    );
  } else if (!isLoopbackHost(c.KEYHOLE_HOST)) {
    problems.add(
      'KEYHOLE_DEV_LOGIN',
      `needs a loopback KEYHOLE_HOST (127.0.0.1, ::1 or localhost), not "${c.KEYHOLE_HOST}": dev login must not be reachable from the network`,
    );
  }
}

const ISSUER_VARIABLES = [
  'KEYHOLE_JWT_ISSUER',
  'KEYHOLE_JWT_AUDIENCE',
  'KEYHOLE_JWKS_URL',
  'KEYHOLE_JWT_PUBLIC_KEY',
  'KEYHOLE_JWT_ALGORITHMS',
  'KEYHOLE_DEV_LOGIN',
];

/** The trusted issuer from `KEYHOLE_JWT_*`: none with dev login, exactly one otherwise. */
export function issuersFrom(c: Variables, problems: Problems): TrustedIssuer[] | undefined {
  if (problems.anyUnreadable(ISSUER_VARIABLES)) return undefined;
  if (c.KEYHOLE_JWT_ISSUER === undefined) {
    if (c.KEYHOLE_DEV_LOGIN) return [];
    problems.add(
      'KEYHOLE_JWT_ISSUER',
      'is required (the issuer of your users\u2019 JWTs), unless KEYHOLE_DEV_LOGIN=1 for local development',
    );
    return undefined;
  }
  const audience = problems.need(c.KEYHOLE_JWT_AUDIENCE, 'KEYHOLE_JWT_AUDIENCE', 'when KEYHOLE_JWT_ISSUER is set');
  if ((c.KEYHOLE_JWKS_URL === undefined) === (c.KEYHOLE_JWT_PUBLIC_KEY === undefined)) {
    problems.add(
      'KEYHOLE_JWKS_URL',
      'set exactly one of KEYHOLE_JWKS_URL or KEYHOLE_JWT_PUBLIC_KEY with KEYHOLE_JWT_ISSUER',
    );
    return undefined;
  }
  const staticKey = c.KEYHOLE_JWT_PUBLIC_KEY === undefined ? undefined : publicKeyFrom(c, problems);
  if (audience === undefined || staticKey === null) return undefined;
  const base = {
    issuer: c.KEYHOLE_JWT_ISSUER,
    audience,
    ...(c.KEYHOLE_JWT_ALGORITHMS ? { algorithms: c.KEYHOLE_JWT_ALGORITHMS } : {}),
  };
  return [c.KEYHOLE_JWKS_URL ? { ...base, jwksUrl: c.KEYHOLE_JWKS_URL } : { ...base, ...staticKey! }];
}

/**
 * `KEYHOLE_JWT_PUBLIC_KEY`, parsed, with the algorithms it can verify: by default every one that
 * fits the key (ES256 for an EC P-256 key), else those of `KEYHOLE_JWT_ALGORITHMS` that fit it.
 * A key that does not parse, or algorithms none of which fit it, is a problem naming both (null).
 */
function publicKeyFrom(
  c: Variables,
  problems: Problems,
): { readonly publicKey: KeyObject; readonly algorithms: readonly string[] } | null {
  let parsed;
  try {
    parsed = parsePublicKeyPem(c.KEYHOLE_JWT_PUBLIC_KEY!);
  } catch (err) {
    problems.add('KEYHOLE_JWT_PUBLIC_KEY', (err as Error).message);
    return null;
  }
  if (parsed.algorithms.length === 0) {
    problems.add(
      'KEYHOLE_JWT_PUBLIC_KEY',
      `${parsed.description} cannot verify JWTs; use an RSA, EC (P-256, P-384, P-521) or Ed25519 key`,
    );
    return null;
  }
  const wanted = c.KEYHOLE_JWT_ALGORITHMS ?? parsed.algorithms;
  const algorithms = wanted.filter((a) => parsed.algorithms.includes(a));
  if (algorithms.length === 0) {
    problems.add(
      'KEYHOLE_JWT_ALGORITHMS',
      `${listAlgorithms(wanted)} cannot verify tokens with KEYHOLE_JWT_PUBLIC_KEY, ${parsed.description}: ` +
        `set KEYHOLE_JWT_ALGORITHMS=${parsed.algorithms.join(',')}, or leave it unset to follow the key`,
    );
    return null;
  }
  return { publicKey: parsed.key, algorithms };
}
