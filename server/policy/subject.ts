import { ForbiddenError } from '../errors.js';

/** Longest claim value (in UTF-16 code units) that may become part of a prefix. */
export const MAX_VALUE_LENGTH = 128;

// Kept verbatim. Everything else, including '%' itself, is percent-encoded as UTF-8, which makes
// the mapping injective and guarantees the output has no '/', '*', '?', '$', ':' or non-ASCII.
// ':' is encoded because RGW rejects it in a Resource ARN's key part (AWS would accept it).
const SAFE = /^[A-Za-z0-9._@+=-]$/;
// C0, DEL, C1 controls, and Unicode line/paragraph separators and BOM-like invisibles.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/**
 * Turns one claim value into one safe path segment, or refuses it with a 403.
 * The mapping is injective: different values never give the same segment.
 */
export function encodeSegment(value: unknown, claim: string): string {
  if (typeof value !== 'string') {
    throw new ForbiddenError('unsupported_subject', `claim "${claim}" must be a string`);
  }
  if (value.trim() === '') {
    throw new ForbiddenError('unsupported_subject', `claim "${claim}" is empty`);
  }
  if (value.length > MAX_VALUE_LENGTH) {
    throw new ForbiddenError(
      'unsupported_subject',
      `claim "${claim}" is ${value.length} characters; at most ${MAX_VALUE_LENGTH} are accepted`,
    );
  }
  if (CONTROL.test(value)) {
    throw new ForbiddenError('unsupported_subject', `claim "${claim}" contains control characters`);
  }
  if (!value.isWellFormed()) {
    throw new ForbiddenError('unsupported_subject', `claim "${claim}" is not well-formed Unicode`);
  }
  // "." and ".." are path segments every URL parser collapses; encode them whole.
  if (value === '.' || value === '..') return value.replaceAll('.', '%2E');
  let out = '';
  for (const ch of value) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of new TextEncoder().encode(ch)) {
      out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}
