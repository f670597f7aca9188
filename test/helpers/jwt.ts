// Local token issuers for tests: a key pair and a signer with full control of every claim.
import { generateKeyPair, exportSPKI, SignJWT, type JWTPayload, type CryptoKey } from 'jose';

export interface TestIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly publicKeyPem: string;
  readonly publicKey: CryptoKey;
  sign(claims: JWTPayload, options?: { alg?: string; kid?: string; header?: Record<string, unknown> }): Promise<string>;
}

export async function testIssuer(issuer = 'https://issuer.test/', audience = 'keyhole-test'): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicKeyPem = await exportSPKI(publicKey);
  return {
    issuer,
    audience,
    publicKeyPem,
    publicKey,
    sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: audience, iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({
          alg: options.alg ?? 'RS256',
          typ: 'JWT',
          ...(options.kid ? { kid: options.kid } : {}),
          ...options.header,
        })
        .sign(privateKey);
    },
  };
}
