// server/auth/key-algorithms.ts on its own: which algorithms each kind of key verifies (exact
// lists and descriptions), how a list is written in messages, and what withKeyAlgorithms keeps,
// narrows, refuses (naming the option) and leaves alone.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listAlgorithms, parsePublicKeyPem, staticKeyOf, withKeyAlgorithms } from '../../server/auth/key-algorithms.js';
import type { TrustedIssuer } from '../../server/auth/verify-token.js';

const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }) as string;
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const rsaPss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey;
const ed25519 = generateKeyPairSync('ed25519').publicKey;
const ed448 = generateKeyPairSync('ed448').publicKey;
const x25519 = generateKeyPairSync('x25519').publicKey;

describe('staticKeyOf: the algorithms a key verifies', () => {
  it.each([
    ['RSA', rsa, 'an RSA key', ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']],
    ['RSA-PSS', rsaPss, 'an RSA-PSS key', ['PS256', 'PS384', 'PS512']],
    ['EC P-256', ec('prime256v1'), 'an EC P-256 key', ['ES256']],
    ['EC P-384', ec('secp384r1'), 'an EC P-384 key', ['ES384']],
    ['EC P-521', ec('secp521r1'), 'an EC P-521 key', ['ES512']],
    ['EC secp256k1', ec('secp256k1'), 'an EC secp256k1 key', []],
    ['Ed25519', ed25519, 'an Ed25519 key', ['EdDSA']],
    ['Ed448', ed448, 'an Ed448 key', ['EdDSA']],
    ['X25519', x25519, 'a x25519 key', []],
  ])('%s: %s, %j', (_name, key, description, algorithms) => {
    const got = staticKeyOf(key);
    expect(got.description).toBe(description);
    expect(got.algorithms).toEqual(algorithms);
    expect(got.key).toBe(key);
  });

  it('a key of no known type or curve is described, never guessed', () => {
    const fake = (asymmetricKeyType: string | undefined, namedCurve?: string) =>
      ({ asymmetricKeyType, asymmetricKeyDetails: namedCurve === undefined ? {} : { namedCurve } }) as KeyObject;
    expect(staticKeyOf(fake(undefined))).toMatchObject({ description: 'a unknown key', algorithms: [] });
    expect(staticKeyOf(fake('ec'))).toMatchObject({ description: 'an EC unknown-curve key', algorithms: [] });
    const noDetails = { asymmetricKeyType: 'ec' } as KeyObject;
    expect(staticKeyOf(noDetails)).toMatchObject({ description: 'an EC unknown-curve key', algorithms: [] });
    // An inherited property name is not a curve.
    expect(staticKeyOf(fake('ec', 'toString'))).toMatchObject({ description: 'an EC toString key', algorithms: [] });
  });
});

describe('parsePublicKeyPem', () => {
  it('parses a PEM SPKI key', () => {
    const got = parsePublicKeyPem(pem(ec('prime256v1')));
    expect([got.description, got.algorithms]).toEqual(['an EC P-256 key', ['ES256']]);
    expect(got.key.type).toBe('public');
  });

  it('anything else is refused with the reason', () => {
    for (const bad of ['', 'not a key', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----']) {
      expect(() => parsePublicKeyPem(bad)).toThrow(
        new Error('expected a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----"); this one does not parse'),
      );
    }
  });
});

describe('listAlgorithms', () => {
  it.each([
    [[], ''],
    [['RS256'], 'RS256'],
    [['RS256', 'ES384'], 'RS256 and ES384'],
    [['RS256', 'RS384', 'ES384'], 'RS256, RS384 and ES384'],
  ])('%j → %j', (list, text) => {
    expect(listAlgorithms(list)).toBe(text);
  });
});

describe('withKeyAlgorithms', () => {
  const base = { issuer: 'https://id.example.com/', audience: 'keyhole' };

  it('a PEM key with no algorithms: the parsed key and every algorithm it verifies', () => {
    const got = withKeyAlgorithms({ ...base, publicKey: pem(rsaPss) }, 0) as TrustedIssuer & { publicKey: KeyObject };
    expect(got.algorithms).toEqual(['PS256', 'PS384', 'PS512']);
    expect(typeof got.publicKey).toBe('object');
    expect(got.publicKey.asymmetricKeyType).toBe('rsa-pss');
    expect([got.issuer, got.audience]).toEqual([base.issuer, base.audience]);
  });

  it('a list is narrowed to the algorithms that fit the key, in its order', () => {
    const got = withKeyAlgorithms({ ...base, publicKey: pem(rsa), algorithms: ['ES256', 'PS512', 'RS256'] }, 0);
    expect(got.algorithms).toEqual(['PS512', 'RS256']);
  });

  it('no algorithm fits: a TypeError naming both options and what would fit', () => {
    expect(() => withKeyAlgorithms({ ...base, publicKey: pem(ed25519), algorithms: ['RS256', 'ES256'] }, 3)).toThrow(
      new TypeError(
        'options.issuers[3].algorithms (RS256 and ES256) cannot verify tokens with options.issuers[3].publicKey, an Ed25519 key: use EdDSA',
      ),
    );
  });

  it('a key that verifies no JWT algorithm: a TypeError naming the key option', () => {
    expect(() => withKeyAlgorithms({ ...base, publicKey: pem(x25519) }, 2)).toThrow(
      new TypeError('options.issuers[2].publicKey is a x25519 key, which cannot verify JWTs'),
    );
  });

  it('a PEM that does not parse: a TypeError naming the option and its index', () => {
    expect(() => withKeyAlgorithms({ ...base, publicKey: 'nope' }, 1)).toThrow(
      new TypeError('options.issuers[1].publicKey must be a PEM SPKI public key ("-----BEGIN PUBLIC KEY-----")'),
    );
  });

  it('left as they are: non-objects, other key sources, key objects, and lists with an algorithm the verifier does not know', () => {
    const jwks = { ...base, jwksUrl: 'https://id.example.com/jwks.json' };
    const keyObject = { ...base, publicKey: rsa };
    const unknownAlg = { ...base, publicKey: 'not even parsed', algorithms: ['RS256', 'HS256'] };
    expect(withKeyAlgorithms(jwks, 0)).toBe(jwks);
    expect(withKeyAlgorithms(keyObject, 0)).toBe(keyObject);
    expect(withKeyAlgorithms(unknownAlg, 0)).toBe(unknownAlg);
    expect(withKeyAlgorithms(null as unknown as TrustedIssuer, 0)).toBe(null);
    expect(withKeyAlgorithms('x' as unknown as TrustedIssuer, 0)).toBe('x');
  });
});
