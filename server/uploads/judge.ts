// The verdict on one uploaded object, from facts already gathered (size, declared and detected
// type, the subject's usage). Pure: the S3 calls that gather the facts are in inspect.ts.
import { matchesAny, mediaType, type CompiledUploadRules, type RejectReason } from './rules.js';

/** Declared types that say nothing about the content: an upload without `Content-Type` gets one. */
const GENERIC = new Set(['application/octet-stream', 'binary/octet-stream']);

/** Common non-standard spellings, mapped to the type the detector reports. */
const ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'audio/mp3': 'audio/mpeg',
  'application/x-pdf': 'application/pdf',
};

/** The declared media type that names something, with aliases resolved; undefined for none or a generic one. */
export function declaredType(contentType: string | undefined): string | undefined {
  const type = mediaType(contentType);
  if (type === undefined || GENERIC.has(type)) return undefined;
  return ALIASES[type] ?? type;
}

/**
 * The content-type verdict:
 * - content whose magic bytes the detector recognises must match a pattern (`type_not_allowed`),
 *   and a specific declared type must be that type (`type_mismatch`: the upload lies about it);
 * - content it does not recognise (text, SVG, CSV...) is taken at its declared type only when that
 *   type is listed *exactly* (a wildcard such as `image/*` never admits it); a declared type the
 *   detector knows (`image/png`) on such content is `type_mismatch`; anything else is `type_not_allowed`.
 *
 * `detectable` is the set of types the detector can recognise (file-type's `supportedMimeTypes`).
 */
export function typeVerdict(
  patterns: readonly string[],
  declared: string | undefined,
  detected: string | undefined,
  detectable: ReadonlySet<string>,
): RejectReason | undefined {
  const claimed = declaredType(declared);
  if (detected !== undefined) {
    if (!matchesAny(detected, patterns)) return 'type_not_allowed';
    return claimed !== undefined && claimed !== detected ? 'type_mismatch' : undefined;
  }
  if (claimed === undefined) return 'type_not_allowed';
  if (detectable.has(claimed)) return matchesAny(claimed, patterns) ? 'type_mismatch' : 'type_not_allowed';
  return patterns.includes(claimed) ? undefined : 'type_not_allowed';
}

/** The facts about one object that the rules are judged on. */
export interface UploadFacts {
  readonly size: number;
  /** `Content-Type` as stored with the object. */
  readonly declaredType: string | undefined;
  /** The type read from the first bytes, when the rules ask for it and the detector knows it. */
  readonly detectedType: string | undefined;
  /** Bytes under the subject's prefix, this object included; `Infinity` when the count was cut short. */
  readonly usedBytes: number | undefined;
}

/** The first rule `facts` break, in a fixed order: size, type, quota. Undefined when none. */
export function judge(
  rules: CompiledUploadRules | undefined,
  facts: UploadFacts,
  detectable: ReadonlySet<string>,
): RejectReason | undefined {
  if (!rules) return undefined;
  if (rules.maxBytes !== undefined && facts.size > rules.maxBytes) return 'too_large';
  if (rules.contentTypes !== undefined) {
    const reason = typeVerdict(rules.contentTypes, facts.declaredType, facts.detectedType, detectable);
    if (reason) return reason;
  }
  if (rules.quotaBytes !== undefined && (facts.usedBytes ?? 0) > rules.quotaBytes) return 'quota_exceeded';
  return undefined;
}
