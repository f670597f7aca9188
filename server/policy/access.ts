/** One kind of access a grant can give on its prefix. */
export type Access = 'read' | 'write' | 'list' | 'delete';

/** Every access kind, in canonical order. Responses list access in this order. */
export const ALL_ACCESS: readonly Access[] = Object.freeze(['read', 'write', 'list', 'delete']);

/** The S3 object actions each access kind allows on `<prefix>*`. `list` is a bucket action. */
export const OBJECT_ACTIONS: Readonly<Record<Exclude<Access, 'list'>, readonly string[]>> = {
  read: ['s3:GetObject'],
  // lib-storage aborts failed multipart uploads; Amplify resumes with ListParts.
  write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  delete: ['s3:DeleteObject'],
};

export function isAccess(value: unknown): value is Access {
  return typeof value === 'string' && (ALL_ACCESS as readonly string[]).includes(value);
}

/** Sorts and de-duplicates into canonical order. */
export function canonicalAccess(access: Iterable<Access>): Access[] {
  const set = new Set(access);
  return ALL_ACCESS.filter((a) => set.has(a));
}
