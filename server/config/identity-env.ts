// Who may sign in: dev login (local development only) and the trusted JWT issuer.
import { isLoopbackHost } from '../auth/dev-login.js';
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
  if (audience === undefined) return undefined;
  const base = {
    issuer: c.KEYHOLE_JWT_ISSUER,
    audience,
    ...(c.KEYHOLE_JWT_ALGORITHMS ? { algorithms: c.KEYHOLE_JWT_ALGORITHMS } : {}),
  };
  return [
    c.KEYHOLE_JWKS_URL ? { ...base, jwksUrl: c.KEYHOLE_JWKS_URL } : { ...base, publicKey: c.KEYHOLE_JWT_PUBLIC_KEY! },
  ];
}
