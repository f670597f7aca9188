// Credentials stored in Redis are sealed with AES-256-GCM: whoever reads Redis (a dump, a replica,
// a MONITOR) sees no secret. The Redis key is the additional authenticated data, so a value copied
// under another key does not open either. Several keys may be configured: the first seals, all
// open, so a key can be rotated in by adding it first and rotated out once old values expired.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { IssuedCredentials } from '../vendors/vendor.js';

const VERSION = 'k1';

/** One 32-byte key and the short id written next to what it sealed. */
interface SealingKey {
  readonly id: string;
  readonly key: Buffer;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('keyhole-redis-key\0').update(key).digest('base64url').slice(0, 8);
}

/** Seals and opens credentials with the given 32-byte keys (the first one seals). */
export class Sealer {
  readonly #keys: readonly SealingKey[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new TypeError('at least one sealing key is needed');
    for (const key of keys) {
      if (key.length !== 32) throw new RangeError('sealing keys must be 32 bytes (AES-256)');
    }
    this.#keys = keys.map((key) => ({ id: keyId(key), key: Buffer.from(key) }));
  }

  seal(credentials: IssuedCredentials, aad: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const plain = JSON.stringify({
      a: credentials.accessKeyId,
      s: credentials.secretAccessKey,
      t: credentials.sessionToken,
      e: credentials.expiration.getTime(),
    });
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      VERSION,
      id,
      iv.toString('base64url'),
      body.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** The credentials, or undefined for anything that does not open (wrong key, tampered, garbage). */
  open(value: string, aad: string): IssuedCredentials | undefined {
    const [version, id, iv, body, tag, ...rest] = value.split('.');
    if (version !== VERSION || !id || !iv || !body || !tag || rest.length > 0) return undefined;
    const key = this.#keys.find((k) => k.id === id);
    if (!key) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      const parsed = JSON.parse(plain) as { a?: unknown; s?: unknown; t?: unknown; e?: unknown };
      if (
        typeof parsed.a !== 'string' ||
        typeof parsed.s !== 'string' ||
        typeof parsed.t !== 'string' ||
        typeof parsed.e !== 'number'
      ) {
        return undefined;
      }
      return {
        accessKeyId: parsed.a,
        secretAccessKey: parsed.s,
        sessionToken: parsed.t,
        expiration: new Date(parsed.e),
      };
    } catch {
      return undefined;
    }
  }
}
