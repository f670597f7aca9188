import { InvalidKeyError } from './errors.js';

/** C0 controls, DEL and C1 controls (U+0080–U+009F; U+009B is an 8-bit CSI on some terminals). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_KEY_BYTES = 1024;

/**
 * Refuses C0 controls, DEL and C1 controls, naming the first one and its position: 1 for the first
 * character, counted in characters (code points), e.g. `key contains control character U+009B at position 3`.
 */
function checkNoControl(key: string, what: string): void {
  if (!CONTROL.test(key)) return;
  let position = 0;
  for (const c of key) {
    position++;
    if (CONTROL.test(c)) {
      const code = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      throw new InvalidKeyError(`${what} contains control character U+${code} at position ${position}`);
    }
  }
}

/**
 * Checks a key relative to the granted prefix and returns the full S3 key.
 * `.` and `..` are rejected because browsers' URL parsing collapses them, so the request
 * would reach a different key than the one named.
 */
export function fullKey(prefix: string, key: string, what = 'key'): string {
  if (typeof key !== 'string' || key === '') throw new InvalidKeyError(`${what} must be a non-empty string`);
  if (key.startsWith('/')) throw new InvalidKeyError(`${what} must be relative to your prefix: remove the leading "/"`);
  checkNoControl(key, what);
  const segments = key.split('/');
  // A trailing "/" (a folder marker) is allowed for prefixes only; see `listPrefix`.
  for (const [i, segment] of segments.entries()) {
    if (segment === '.' || segment === '..') throw new InvalidKeyError(`${what} must not contain "." or ".." segments`);
    if (segment === '' && i !== segments.length - 1)
      throw new InvalidKeyError(`${what} must not contain empty segments ("//")`);
  }
  if (key.endsWith('/')) throw new InvalidKeyError(`${what} must not end with "/"`);
  const full = prefix + key;
  if (new TextEncoder().encode(full).length > MAX_KEY_BYTES) {
    throw new InvalidKeyError(`${what} is too long: S3 keys are at most ${MAX_KEY_BYTES} bytes including the prefix`);
  }
  return full;
}

/** Like `fullKey` but for a listing prefix: empty means "everything under my prefix"; a trailing "/" is allowed. */
export function listPrefix(prefix: string, relative: string | undefined): string {
  if (relative === undefined || relative === '') return prefix;
  const trimmed = relative.endsWith('/') ? relative.slice(0, -1) : relative;
  return fullKey(prefix, trimmed, 'prefix') + (relative.endsWith('/') ? '/' : '');
}
