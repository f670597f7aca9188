import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { BadRequestError } from '../errors.js';

/** Issuer of tokens minted by the dev login. Never trust it outside local development. */
export const DEV_ISSUER = 'urn:keyhole:dev-login';
export const DEV_AUDIENCE = 'keyhole';

const RESERVED = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub']);
const claimValue = z.union([z.string().max(256), z.number(), z.boolean(), z.array(z.string().max(256)).max(32)]);
// The subject is deliberately not sanitised here: dev tokens are how tests feed hostile
// subjects to /v1/credentials, which must refuse or encode them itself.
const body = z.strictObject({
  sub: z.string().min(1).max(1024),
  claims: z.record(z.string().max(64), claimValue).optional(),
  ttlSeconds: z.number().int().min(1).max(86400).optional(),
});

export interface DevLogin {
  readonly publicKey: KeyObject;
  mint(input: unknown): Promise<string>;
}

/** A throwaway Ed25519 key pair, made per broker process; tokens die with the process. */
export function createDevLogin(): DevLogin {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey,
    async mint(input) {
      const parsed = body.safeParse(input ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new BadRequestError('invalid_body', `${issue.path.join('.') || 'body'}: ${issue.message}`);
      }
      const extra = Object.fromEntries(Object.entries(parsed.data.claims ?? {}).filter(([k]) => !RESERVED.has(k)));
      return new SignJWT(extra)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(parsed.data.sub)
        .setIssuedAt()
        .setExpirationTime(`${parsed.data.ttlSeconds ?? 3600}s`)
        .sign(privateKey);
    },
  };
}
