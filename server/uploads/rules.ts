// Upload rules per grant scope: what an uploaded object may be. IAM has no condition key for an
// object's size or type (RGW ignores `s3:content-length` too), so these are checked after the bytes
// land, by the broker, with its own S3 identity (see judge.ts and enforce.ts).
export { REJECT_REASONS, type RejectReason } from '../../client/protocol/uploads.js';

/**
 * What an object uploaded under a scope may be. Every field is optional; an empty object checks
 * nothing.
 *
 * @example
 * ```ts
 * { maxBytes: 10 * 1024 * 1024, contentTypes: ['image/*'], quotaBytes: 100 * 1024 * 1024 }
 * ```
 */
export interface UploadRules {
  /** Largest object, in bytes. */
  readonly maxBytes?: number;
  /**
   * MIME patterns (`image/png`, `image/*`) the object's content must match. The type is read from
   * the object's first bytes (magic numbers), not only from its declared `Content-Type`.
   */
  readonly contentTypes?: readonly string[];
  /** Most bytes all objects under the caller's prefix may hold together (per subject). */
  readonly quotaBytes?: number;
}

/** {@link UploadRules} after validation: patterns lower-cased, duplicates removed. */
export interface CompiledUploadRules {
  readonly maxBytes: number | undefined;
  readonly contentTypes: readonly string[] | undefined;
  readonly quotaBytes: number | undefined;
}

const UPLOAD_RULE_KEYS = ['maxBytes', 'contentTypes', 'quotaBytes'];

// RFC 6838 restricted names, lower-case; the subtype may be `*`.
const TOKEN = '[a-z0-9][a-z0-9!#$&^_.+-]{0,126}';
const MIME_PATTERN = new RegExp(`^${TOKEN}/(?:${TOKEN}|\\*)$`);

/** S3's largest object (5 TiB): a larger limit can never be reached. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

function byteCount(value: unknown, at: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(`${at} must be a positive integer (bytes)`);
  }
  return value as number;
}

/**
 * Validates one scope's `uploads` once, at startup. Throws TypeError or RangeError naming `at`
 * (e.g. `options.grants[0].scopes[1].uploads`).
 */
export function compileUploadRules(value: unknown, at: string): CompiledUploadRules | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${at} must be an object of { maxBytes?, contentTypes?, quotaBytes? }`);
  }
  const unknown = Object.keys(value).filter((k) => !UPLOAD_RULE_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`${at} has unknown option "${unknown[0]}"; expected one of ${UPLOAD_RULE_KEYS.join(', ')}`);
  }
  const rules = value as UploadRules;
  const maxBytes = byteCount(rules.maxBytes, `${at}.maxBytes`);
  if (maxBytes !== undefined && maxBytes > MAX_OBJECT_BYTES) {
    throw new RangeError(`${at}.maxBytes must be at most ${MAX_OBJECT_BYTES} (5 TiB, S3's largest object)`);
  }
  const quotaBytes = byteCount(rules.quotaBytes, `${at}.quotaBytes`);
  let contentTypes: string[] | undefined;
  if (rules.contentTypes !== undefined) {
    if (!Array.isArray(rules.contentTypes) || rules.contentTypes.length === 0) {
      throw new TypeError(`${at}.contentTypes must be a non-empty array of MIME patterns such as "image/*"`);
    }
    contentTypes = [];
    for (const [i, pattern] of (rules.contentTypes as unknown[]).entries()) {
      const p = typeof pattern === 'string' ? pattern.trim().toLowerCase() : '';
      if (!MIME_PATTERN.test(p)) {
        throw new TypeError(
          `${at}.contentTypes[${i}] must be a MIME type or "type/*" (got ${JSON.stringify(pattern)})`,
        );
      }
      if (!contentTypes.includes(p)) contentTypes.push(p);
    }
  }
  return Object.freeze({
    maxBytes,
    contentTypes: contentTypes && Object.freeze(contentTypes),
    quotaBytes,
  });
}

/** `type/subtype` of a Content-Type header, lower-cased, without parameters; undefined when unusable. */
export function mediaType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0]?.trim().toLowerCase();
  return bare && MIME_PATTERN.test(bare) && !bare.endsWith('/*') ? bare : undefined;
}

/** True when `type` (a bare media type) matches one of the patterns (`image/*` matches `image/png`). */
export function matchesAny(type: string, patterns: readonly string[]): boolean {
  const [major] = type.split('/');
  return patterns.some((p) => p === type || p === `${major}/*`);
}

/**
 * The literal start of a prefix template: everything before its first placeholder
 * (`users/{sub}/` gives `users/`, `{sub}/` gives ``).
 */
export function literalHead(template: string): string {
  const brace = template.indexOf('{');
  return brace === -1 ? template : template.slice(0, brace);
}

/**
 * Checks a quarantine prefix: a relative folder (`quarantine/`) that no grant's prefix template can
 * reach, so a user can never read what was taken from them. Throws TypeError naming `at`.
 */
export function checkQuarantinePrefix(prefix: unknown, templates: readonly string[], at: string): string {
  if (
    typeof prefix !== 'string' ||
    prefix.length < 2 ||
    !prefix.endsWith('/') ||
    prefix.startsWith('/') ||
    prefix
      .slice(0, -1)
      .split('/')
      .some((s) => s === '' || s === '.' || s === '..') ||
    /[\u0000-\u001f\u007f-\u009f{}]/u.test(prefix)
  ) {
    throw new TypeError(`${at} must be a relative folder such as "quarantine/" (ending in "/", no empty segments)`);
  }
  for (const template of templates) {
    const head = literalHead(template);
    if (prefix.startsWith(head) || head.startsWith(prefix)) {
      throw new TypeError(
        `${at} "${prefix}" overlaps the grant prefix "${template}": users could read quarantined objects; ` +
          'choose a prefix outside every grant',
      );
    }
  }
  return prefix;
}
