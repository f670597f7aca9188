import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { BadRequestError } from '../errors.js';

/** Issuer of tokens minted by the dev login. Never trust it outside local development. */
export const DEV_ISSUER = 'urn:keyhole:dev-login';
export const DEV_AUDIENCE = 'keyhole';
/**
 * What dev identities' prefixes and identity ids start with (`users/dev-alice/`), so that a dev
 * sign-in is never mistaken for the real user of the same name in logs or listings.
 */
export const DEV_NAMESPACE = 'dev-';

/** True for a TCP peer on the loopback interface (IPv4, IPv6, or IPv4-mapped). */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

/** True for a listen address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackPeer(host) || host === '[::1]';
}

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
