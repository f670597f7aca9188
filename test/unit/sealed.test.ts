// Credentials sealed for Redis (server/shared/sealed.ts), without Redis: what opens, what does not,
// and that nothing secret is readable in the sealed form.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../server/shared/sealed.js';

const creds = {
  accessKeyId: 'ASIAEXAMPLEKEYID0001',
  secretAccessKey: 'secret/with+chars=',
  sessionToken: 'token-' + 'x'.repeat(300),
  expiration: new Date('2026-12-01T05:00:00.000Z'),
};
const AAD = 'keyhole:cred:alice';

describe('Sealer', () => {
  it('round-trips under the same key and Redis key, and the sealed text holds no secret', () => {
    const sealer = new Sealer([randomBytes(32)]);
    const sealed = sealer.seal(creds, AAD);
    expect(sealer.open(sealed, AAD)).toEqual(creds);
    for (const secret of [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken.slice(0, 20)]) {
      expect(sealed).not.toContain(secret);
    }
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed.startsWith('k1.')).toBe(true);
    // A fresh IV each time: the same credentials never seal to the same text.
    expect(sealer.seal(creds, AAD)).not.toBe(sealed);
  });

  it('does not open under another Redis key (a value copied to another subject)', () => {
    const sealer = new Sealer([randomBytes(32)]);
    expect(sealer.open(sealer.seal(creds, AAD), 'keyhole:cred:bob')).toBeUndefined();
  });

  it('does not open when any part is changed, or with parts missing or added', () => {
    const sealer = new Sealer([randomBytes(32)]);
    const parts = sealer.seal(creds, AAD).split('.');
    for (let i = 0; i < parts.length; i++) {
      const changed = [...parts];
      const p = changed[i]!;
      changed[i] = (p[0] === 'A' ? 'B' : 'A') + p.slice(1);
      expect(sealer.open(changed.join('.'), AAD), `part ${i}`).toBeUndefined();
    }
    expect(sealer.open(parts.slice(0, 4).join('.'), AAD)).toBeUndefined();
    expect(sealer.open([...parts, 'x'].join('.'), AAD)).toBeUndefined();
    expect(sealer.open('', AAD)).toBeUndefined();
    expect(sealer.open('not a sealed value', AAD)).toBeUndefined();
  });

  it('rotation: the first key seals, every key opens; a sealer without the key cannot open', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new Sealer([oldKey]);
    const during = new Sealer([newKey, oldKey]);
    const after = new Sealer([newKey]);
    const sealedOld = before.seal(creds, AAD);
    const sealedNew = during.seal(creds, AAD);
    expect(during.open(sealedOld, AAD)).toEqual(creds);
    expect(after.open(sealedNew, AAD)).toEqual(creds);
    expect(before.open(sealedNew, AAD)).toBeUndefined();
    expect(after.open(sealedOld, AAD)).toBeUndefined();
  });

  it('refuses no key and keys that are not 32 bytes, by exact message', () => {
    expect(() => new Sealer([])).toThrow(new TypeError('at least one sealing key is needed'));
    expect(() => new Sealer([randomBytes(16)])).toThrow(new RangeError('sealing keys must be 32 bytes (AES-256)'));
    expect(() => new Sealer([randomBytes(32), randomBytes(33)])).toThrow(RangeError);
  });
});
