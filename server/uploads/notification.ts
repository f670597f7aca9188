// Bucket notifications (RGW's, or S3 event records) into upload completions: ObjectCreated records
// only, the key decoded as the source sends it, and the subject read from the key's prefix.
import type { CompiledRule } from '../grants.js';
import type { CompletionTarget } from './complete.js';

/** How a notification source writes keys: RGW sends them raw, AWS S3 URL-encoded (`+` for a space). */
export type KeyEncoding = 'raw' | 'url';

interface NotificationRecord {
  readonly eventName?: unknown;
  readonly s3?: { readonly bucket?: { readonly name?: unknown }; readonly object?: { readonly key?: unknown } };
}

/** The bucket and key of each `ObjectCreated` record; other records (removals) are skipped. */
export function createdObjects(body: unknown, encoding: KeyEncoding): { bucket: string; key: string }[] {
  const records = (body as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return [];
  const out: { bucket: string; key: string }[] = [];
  for (const r of records as NotificationRecord[]) {
    const name = typeof r?.eventName === 'string' ? r.eventName.replace(/^s3:/, '') : '';
    const bucket = r?.s3?.bucket?.name;
    const raw = r?.s3?.object?.key;
    if (!name.startsWith('ObjectCreated:') || typeof bucket !== 'string' || typeof raw !== 'string') continue;
    let key = raw;
    if (encoding === 'url') {
      try {
        key = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        continue;
      }
    }
    if (key !== '') out.push({ bucket, key });
  }
  return out;
}

/**
 * The completion target for an object named by a notification: the first grant rule for the
 * bucket with a writable scope whose template the key fits (literal segments equal, each
 * placeholder one non-empty segment). The subject is the `{sub}` segment, percent-decoded, without
 * the dev-login namespace. Rules' `when` conditions cannot be checked (a notification carries no
 * claims), so with several rules for one bucket the first fitting scope decides. Undefined when no
 * scope fits or the template has no `{sub}`.
 */
export function targetFor(
  rules: readonly CompiledRule[],
  bucket: string,
  key: string,
  devNamespace: string,
): CompletionTarget | undefined {
  const segments = key.split('/');
  for (const rule of rules) {
    if (rule.bucket !== bucket) continue;
    for (const scope of rule.scopes) {
      if (!scope.access.includes('write')) continue;
      const parts = scope.template.segments;
      if (segments.length <= parts.length) continue;
      let subject: string | undefined;
      const fits = parts.every((p, i) => {
        const s = segments[i]!;
        if ('literal' in p) return s === p.literal;
        if (s === '') return false;
        if (p.claim === 'sub') subject = s;
        return true;
      });
      if (!fits || subject === undefined) continue;
      let sub: string;
      try {
        sub = decodeURIComponent(subject);
      } catch {
        continue;
      }
      if (devNamespace && sub.startsWith(devNamespace)) sub = sub.slice(devNamespace.length);
      const scopePrefix = segments.slice(0, parts.length).join('/') + '/';
      return {
        bucket,
        key,
        relativeKey: key.slice(scopePrefix.length),
        scopePrefix,
        rules: scope.uploads,
        subject: sub,
      };
    }
  }
  return undefined;
}
