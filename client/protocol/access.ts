import * as z from 'zod/mini';

/** Every kind of access a grant can give on its prefix, in canonical order. */
export const ACCESS = Object.freeze(['read', 'write', 'list', 'delete'] as const);

/** One kind of access on a granted prefix. */
export type Access = (typeof ACCESS)[number];

/** Runtime schema of one {@link Access} value. */
export const AccessSchema = z.enum(ACCESS);

/** True when `value` is one of {@link ACCESS}. */
export function isAccess(value: unknown): value is Access {
  return typeof value === 'string' && (ACCESS as readonly string[]).includes(value);
}

/** Sorts and de-duplicates into canonical order (the order responses list access in). */
export function canonicalAccess(access: Iterable<Access>): Access[] {
  const set = new Set(access);
  return ACCESS.filter((a) => set.has(a));
}
