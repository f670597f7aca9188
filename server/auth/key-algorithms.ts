// Which JWS algorithms a static public key can verify: a PEM EC P-256 key verifies ES256 and
// nothing else. The configuration loader and the broker's options use it so that a key and its
// algorithms that cannot work together fail at startup, naming both, and never per request.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DEFAULT_ALGORITHMS, type TrustedIssuer } from './verify-token.js';

/** A static public key, parsed, with the algorithms it can verify. */
export interface StaticKey {
  readonly key: KeyObject;
  /** "an EC P-256 key", for messages. */
  readonly description: string;
  /** The JWS algorithms this key can verify (empty: none of ours). */
  readonly algorithms: readonly string[];
}

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const CURVES: Readonly<Record<string, readonly [string, string]>> = {
  prime256v1: ['P-256', 'ES256'],
  secp384r1: ['P-384', 'ES384'],
  secp521r1: ['P-521', 'ES512'],
};

/** The algorithms `key` can verify, and a description of it. */
export function staticKeyOf(key: KeyObject): StaticKey {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'rsa') return { key, description: 'an RSA key', algorithms: RSA };
  if (type === 'rsa-pss')
    return { key, description: 'an RSA-PSS key', algorithms: RSA.filter((a) => a.startsWith('PS')) };
  if (type === 'ec') {
    const curve = String(key.asymmetricKeyDetails?.namedCurve ?? '');
    const known = Object.hasOwn(CURVES, curve) ? CURVES[curve] : undefined;
    return known
      ? { key, description: `an EC ${known[0]} key`, algorithms: [known[1]] }
      : { key, description: `an EC ${curve || 'unknown-curve'} key`, algorithms: [] };
  }
  if (type === 'ed25519' || type === 'ed448') {
    return { key, description: `an ${type === 'ed25519' ? 'Ed25519' : 'Ed448'} key`, algorithms: ['EdDSA'] };
  }
  return { key, description: `a ${type} key`, algorithms: [] };
}

/** Parses a PEM SPKI public key; throws the reason (a short sentence) when it is not one. */
export function parsePublicKeyPem(pem: string): StaticKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('expected a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----"); this one does not parse');
  }
  return staticKeyOf(key);
}

/** "RS256", "RS256 and ES384", "RS256, RS384 and ES384" */
export function listAlgorithms(algorithms: readonly string[]): string {
  return algorithms.length <= 1
    ? (algorithms[0] ?? '')
    : `${algorithms.slice(0, -1).join(', ')} and ${algorithms[algorithms.length - 1]}`;
}

/**
 * For `createBroker`: an issuer whose `publicKey` is a PEM string gets the parsed key and the
 * algorithms that fit it (its own `algorithms`, narrowed to those, or all that fit). Throws a
 * TypeError naming `options.issuers[index]` when the PEM does not parse or no algorithm fits, so
 * the mismatch stops the broker at startup instead of failing every request. Other issuers, and
 * lists with an algorithm the verifier does not know (it names that one), are returned as they are.
 */
export function withKeyAlgorithms(issuer: TrustedIssuer, index: number): TrustedIssuer {
  if (typeof issuer !== 'object' || issuer === null || !('publicKey' in issuer)) return issuer;
  if (typeof issuer.publicKey !== 'string') return issuer;
  if (issuer.algorithms?.some((a) => !DEFAULT_ALGORITHMS.includes(a))) return issuer;
  let parsed: StaticKey;
  try {
    parsed = parsePublicKeyPem(issuer.publicKey);
  } catch {
    throw new TypeError(
      `options.issuers[${index}].publicKey must be a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----")`,
    );
  }
  const wanted = issuer.algorithms ?? parsed.algorithms;
  const algorithms = wanted.filter((a) => parsed.algorithms.includes(a));
  if (algorithms.length === 0) {
    throw new TypeError(
      parsed.algorithms.length === 0
        ? `options.issuers[${index}].publicKey is ${parsed.description}, which cannot verify JWTs`
        : `options.issuers[${index}].algorithms (${listAlgorithms(wanted)}) cannot verify tokens with ` +
            `options.issuers[${index}].publicKey, ${parsed.description}: use ${listAlgorithms(parsed.algorithms)}`,
    );
  }
  return { ...issuer, publicKey: parsed.key, algorithms };
}
