import { InvalidKeyError } from './errors.js';

const CONTROL = /[\u0000-\u001f\u007f]/;
const MAX_KEY_BYTES = 1024;

/**
 * Checks a key relative to the granted prefix and returns the full S3 key.
 * `.` and `..` are rejected because browsers' URL parsing collapses them, so the request
 * would reach a different key than the one named.
 */
export function fullKey(prefix: string, key: string, what = 'key'): string {
  if (typeof key !== 'string' || key === '') throw new InvalidKeyError(`${what} must be a non-empty string`);
  if (key.startsWith('/')) throw new InvalidKeyError(`${what} must be relative to your prefix: remove the leading "/"`);
  if (CONTROL.test(key)) throw new InvalidKeyError(`${what} must not contain control characters`);
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
