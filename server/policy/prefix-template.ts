import { encodeSegment } from './subject.js';

/** A parsed prefix template such as `users/{sub}/`: segments are literals or claim names. */
export interface PrefixTemplate {
  readonly source: string;
  readonly segments: readonly ({ literal: string } | { claim: string })[];
}

const LITERAL = /^[A-Za-z0-9._@+=-]+$/;
const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_:.-]{0,63})\}$/;

/**
 * Parses and checks a template. Throws a plain `Error` with the reason; callers wrap it
 * into a TypeError or ConfigError that names their option.
 */
export function parsePrefixTemplate(source: string): PrefixTemplate {
  if (!source.endsWith('/')) {
    // Without the trailing slash, "users/alice" would also match "users/alice2/...".
    throw new Error(`prefix template "${source}" must end with "/"`);
  }
  if (source.startsWith('/')) throw new Error(`prefix template "${source}" must not start with "/"`);
  const parts = source.slice(0, -1).split('/');
  const segments = parts.map((part) => {
    const placeholder = PLACEHOLDER.exec(part);
    if (placeholder) return { claim: placeholder[1]! };
    if (part === '' || part === '.' || part === '..' || !LITERAL.test(part)) {
      throw new Error(
        `prefix template "${source}" has an invalid segment "${part}": use letters, digits and ._@+=- or a whole-segment {claim}`,
      );
    }
    return { literal: part };
  });
  return Object.freeze({ source, segments: Object.freeze(segments) });
}

// What a vendor-supplied, already-encoded segment may contain: encodeSegment's output alphabet.
const ENCODED_SEGMENT = /^[A-Za-z0-9._@+=%-]{1,1536}$/;

/**
 * Renders a template with each placeholder replaced by its safely encoded value, after `namespace`
 * (dev-login identities render as `dev-<value>`). `verbatim` holds
 * vendor-supplied values (the identityId, which is also what Amplify builds paths from): one that
 * is already an encoded segment (the STS vendor's) is used as is rather than encoded twice; any
 * other (a Cognito `region:uuid`) is encoded like a claim.
 */
export function renderPrefix(
  template: PrefixTemplate,
  values: Readonly<Record<string, unknown>>,
  verbatim: Readonly<Record<string, string>> = {},
  namespace = '',
): string {
  let out = '';
  for (const segment of template.segments) {
    if ('literal' in segment) {
      out += segment.literal + '/';
    } else if (Object.hasOwn(verbatim, segment.claim)) {
      const value = verbatim[segment.claim]!;
      const encoded = ENCODED_SEGMENT.test(value) && value !== '.' && value !== '..';
      // A verbatim value comes from the broker, which has already put it in its namespace.
      out += (encoded ? value : encodeSegment(value, segment.claim)) + '/';
    } else {
      out +=
        namespace +
        encodeSegment(Object.hasOwn(values, segment.claim) ? values[segment.claim] : undefined, segment.claim) +
        '/';
    }
  }
  return out;
}

/** True when the template has at least one placeholder, so each caller gets its own prefix. */
export function isPerCaller(template: PrefixTemplate): boolean {
  return template.segments.some((s) => 'claim' in s);
}
