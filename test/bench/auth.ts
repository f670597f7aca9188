// The one identity provider both app servers trust: run.ts mints the users' JWTs with it before
// any measurement starts, so token issuance never counts as an app-server request.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { GrantRule } from '../../server/index.js';

export const BENCH_ISSUER = 'urn:keyhole:bench';
export const BENCH_AUDIENCE = 'keyhole-bench';
/** Environment variable carrying the issuer's public JWK to the app-server processes. */
export const PUBLIC_JWK_ENV = 'KEYHOLE_BENCH_PUBLIC_JWK';

/**
 * Where the bench's users live: outside `users/`, which the local stack's bucket notification covers
 * (infra/local/notifications.mjs). That notification is synchronous: RGW pushes every upload to a broker
 * before it answers, which would time the push, not the upload (run.ts refuses a bucket whose
 * notifications cover this prefix).
 */
export const BENCH_ROOT = 'bench-users/';

/** A bench user's full prefix. */
export function benchPrefix(sub: string): string {
  return `${BENCH_ROOT}${sub}/`;
}

/** The grant both the broker and the presigned-URL baseline apply: each user owns `bench-users/{sub}/`. */
export function benchGrants(bucket: string): GrantRule[] {
  return [{ bucket, scopes: [{ prefix: `${BENCH_ROOT}{sub}/`, access: ['read', 'write', 'list', 'delete'] }] }];
}

export interface BenchIssuer {
  readonly publicJwk: JWK;
  mint(sub: string): Promise<string>;
}

export async function createBenchIssuer(): Promise<BenchIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const key: CryptoKey = privateKey;
  return {
    publicJwk: await exportJWK(publicKey),
    mint: (sub) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setIssuer(BENCH_ISSUER)
        .setAudience(BENCH_AUDIENCE)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(key),
  };
}

export function issuerFromEnv(): { issuer: string; audience: string; publicKey: JWK; algorithms: string[] } {
  const raw = process.env[PUBLIC_JWK_ENV];
  if (!raw) throw new Error(`${PUBLIC_JWK_ENV} is not set`);
  return { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, publicKey: JSON.parse(raw) as JWK, algorithms: ['EdDSA'] };
}
