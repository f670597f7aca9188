import { ForbiddenError } from './errors.js';
import { canonicalAccess, isAccess, type Access } from './policy/access.js';
import { parsePrefixTemplate, renderPrefix, type PrefixTemplate } from './policy/prefix-template.js';
import type { Scope } from './policy/session-policy.js';
import { compileUploadRules, type CompiledUploadRules, type UploadRules } from './uploads/rules.js';

/** One prefix template and the access it gives. */
export interface ScopeRule {
  /** Prefix template such as `users/{sub}/`. Placeholders name claims; each must be a whole segment. */
  readonly prefix: string;
  /** What the caller may do under the prefix. */
  readonly access: readonly Access[];
  /** What objects uploaded under the prefix may be (size, real type, quota); checked after upload. */
  readonly uploads?: UploadRules;
}

/**
 * A grant rule. The first rule whose `when` matches the token's claims applies; a rule with no
 * `when` matches everyone. A claim matches a value when it equals it, or is an array containing it.
 *
 * @example
 * ```ts
 * { when: { groups: 'admins' }, bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read','write','list','delete'] }] }
 * ```
 */
export interface GrantRule {
  readonly when?: Readonly<Record<string, string | number | boolean>>;
  readonly bucket: string;
  readonly scopes: readonly ScopeRule[];
  /** How the credentials are hardened beyond their scopes. Defaults are the safe choice. */
  readonly session?: SessionOptions;
}

/**
 * Per-grant session hardening. Each field becomes a condition or a Deny in the session policy.
 *
 * @example
 * ```ts
 * { bindSourceIp: { ipv4PrefixLength: 24, ipv6PrefixLength: 64 }, allowPresignedUrls: false }
 * ```
 */
export interface SessionOptions {
  /**
   * Only the address the broker saw may use the credentials (`aws:SourceIp`): `true` for that exact
   * address, or prefix lengths to allow its network (mobile clients change address within one).
   * Default false. Needs the broker to see the client's real address (`trustProxy`).
   */
  readonly bindSourceIp?: boolean | { readonly ipv4PrefixLength?: number; readonly ipv6PrefixLength?: number };
  /** Let the credentials sign presigned URLs. Default false (denied on AWS; RGW cannot deny them). */
  readonly allowPresignedUrls?: boolean;
  /** Let writes set object tags (`x-amz-tagging`). Default false. */
  readonly allowTagging?: boolean;
  /** Credentials stop working when the caller's token expires (`aws:CurrentTime`). Default true. */
  readonly expireWithToken?: boolean;
}

/** {@link SessionOptions} with every default applied. */
export interface ResolvedSessionOptions {
  readonly bindSourceIp: false | { readonly ipv4PrefixLength: number; readonly ipv6PrefixLength: number };
  readonly allowPresignedUrls: boolean;
  readonly allowTagging: boolean;
  readonly expireWithToken: boolean;
}

/** One resolved prefix, with its upload rules when the scope has some. */
export type ResolvedScope = Scope & { readonly uploads?: CompiledUploadRules };

/** A grant resolved for one caller: concrete prefixes. */
export interface ResolvedGrant {
  readonly bucket: string;
  readonly scopes: readonly ResolvedScope[];
  readonly session: ResolvedSessionOptions;
}

/** A {@link GrantRule} validated by {@link compileGrants}, with parsed prefix templates. */
export interface CompiledRule {
  readonly when: GrantRule['when'];
  readonly bucket: string;
  readonly scopes: readonly {
    template: PrefixTemplate;
    access: readonly Access[];
    uploads?: CompiledUploadRules;
  }[];
  readonly session: ResolvedSessionOptions;
}

const SESSION_KEYS = ['bindSourceIp', 'allowPresignedUrls', 'allowTagging', 'expireWithToken'];

function prefixLength(value: unknown, max: number, at: string): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max) {
    throw new RangeError(`${at} must be an integer from 0 to ${max}`);
  }
  return value as number;
}

function compileSession(session: SessionOptions | undefined, at: string): ResolvedSessionOptions {
  if (session !== undefined && (typeof session !== 'object' || session === null)) {
    throw new TypeError(`${at} must be an object`);
  }
  const s = session ?? {};
  const unknown = Object.keys(s).filter((k) => !SESSION_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`${at} has unknown option "${unknown[0]}"; expected one of ${SESSION_KEYS.join(', ')}`);
  }
  for (const key of ['allowPresignedUrls', 'allowTagging', 'expireWithToken'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'boolean') throw new TypeError(`${at}.${key} must be a boolean`);
  }
  let bind: ResolvedSessionOptions['bindSourceIp'] = false;
  if (s.bindSourceIp === true) bind = { ipv4PrefixLength: 32, ipv6PrefixLength: 128 };
  else if (typeof s.bindSourceIp === 'object' && s.bindSourceIp !== null) {
    bind = {
      ipv4PrefixLength: prefixLength(s.bindSourceIp.ipv4PrefixLength, 32, `${at}.bindSourceIp.ipv4PrefixLength`),
      ipv6PrefixLength: prefixLength(s.bindSourceIp.ipv6PrefixLength, 128, `${at}.bindSourceIp.ipv6PrefixLength`),
    };
  } else if (s.bindSourceIp !== undefined && s.bindSourceIp !== false) {
    throw new TypeError(`${at}.bindSourceIp must be a boolean or { ipv4PrefixLength, ipv6PrefixLength }`);
  }
  return Object.freeze({
    bindSourceIp: bind,
    allowPresignedUrls: s.allowPresignedUrls ?? false,
    allowTagging: s.allowTagging ?? false,
    expireWithToken: s.expireWithToken ?? true,
  });
}

// S3 bucket naming rules (the subset valid everywhere): 3-63 chars, lowercase, digits, '.', '-'.
const BUCKET = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Validates rules once, at startup. Throws TypeError naming the offending path. */
export function compileGrants(rules: readonly GrantRule[], path = 'options.grants'): readonly CompiledRule[] {
  if (!Array.isArray(rules) || rules.length === 0) throw new TypeError(`${path} must be a non-empty array`);
  return Object.freeze(
    rules.map((rule, i) => {
      const at = `${path}[${i}]`;
      if (typeof rule?.bucket !== 'string' || !BUCKET.test(rule.bucket)) {
        throw new TypeError(`${at}.bucket must be a valid S3 bucket name`);
      }
      if (rule.when !== undefined && (typeof rule.when !== 'object' || rule.when === null)) {
        throw new TypeError(`${at}.when must be an object of claim: value`);
      }
      if (!Array.isArray(rule.scopes) || rule.scopes.length === 0) {
        throw new TypeError(`${at}.scopes must be a non-empty array`);
      }
      const scopes = rule.scopes.map((scope: ScopeRule, j: number) => {
        let template: PrefixTemplate;
        try {
          template = parsePrefixTemplate(scope?.prefix);
        } catch (err) {
          throw new TypeError(`${at}.scopes[${j}].prefix: ${(err as Error).message}`);
        }
        if (!Array.isArray(scope.access) || scope.access.length === 0 || !scope.access.every(isAccess)) {
          throw new TypeError(
            `${at}.scopes[${j}].access must be a non-empty array of "read", "write", "list", "delete"`,
          );
        }
        const uploads = compileUploadRules(scope.uploads, `${at}.scopes[${j}].uploads`);
        return { template, access: canonicalAccess(scope.access), ...(uploads ? { uploads } : {}) };
      });
      const session = compileSession(rule.session, `${at}.session`);
      return Object.freeze({ when: rule.when ? { ...rule.when } : undefined, bucket: rule.bucket, scopes, session });
    }),
  );
}

function matches(when: CompiledRule['when'], claims: Readonly<Record<string, unknown>>): boolean {
  if (!when) return true;
  return Object.entries(when).every(([claim, want]) => {
    const have = Object.hasOwn(claims, claim) ? claims[claim] : undefined;
    return Array.isArray(have) ? have.includes(want) : have === want;
  });
}

/**
 * Picks the rule for these claims, narrows it to `requested` access (all granted when omitted),
 * and renders its prefixes. Throws ForbiddenError for no rule, or for access beyond the grant.
 */
export function resolveGrant(
  rules: readonly CompiledRule[],
  claims: Readonly<Record<string, unknown>>,
  requested: readonly Access[] | undefined,
  identityId?: string,
  namespace = '',
): ResolvedGrant & { readonly access: readonly Access[] } {
  const rule = rules.find((r) => matches(r.when, claims));
  if (!rule) throw new ForbiddenError('no_grant', 'no grant applies to this identity');
  const granted = new Set(rule.scopes.flatMap((s) => s.access));
  if (requested) {
    const beyond = requested.filter((a) => !granted.has(a));
    if (beyond.length > 0) {
      throw new ForbiddenError('access_not_granted', `access not granted: ${canonicalAccess(beyond).join(', ')}`);
    }
  }
  const want = new Set(requested ?? granted);
  const scopes = rule.scopes
    .map((s) => ({
      prefix: renderPrefix(s.template, claims, identityId === undefined ? {} : { identityId }, namespace),
      access: s.access.filter((a) => want.has(a)),
      ...(s.uploads ? { uploads: s.uploads } : {}),
    }))
    .filter((s) => s.access.length > 0);
  return {
    bucket: rule.bucket,
    scopes,
    session: rule.session,
    access: canonicalAccess(scopes.flatMap((s) => s.access)),
  };
}
