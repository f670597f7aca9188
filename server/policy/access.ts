// `Access` is part of the wire protocol (requests and responses list it), so it is declared there,
// once; the server adds only what access means in IAM terms.
import { ACCESS, type Access } from '../../client/protocol/access.js';

export { canonicalAccess, isAccess, type Access } from '../../client/protocol/access.js';

/** Every access kind, in canonical order. Responses list access in this order. */
export const ALL_ACCESS: readonly Access[] = ACCESS;

/** The S3 object actions each access kind allows on `<prefix>*`. `list` is a bucket action. */
export const OBJECT_ACTIONS: Readonly<Record<Exclude<Access, 'list'>, readonly string[]>> = {
  read: ['s3:GetObject'],
  // lib-storage aborts failed multipart uploads; Amplify resumes with ListParts.
  write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  delete: ['s3:DeleteObject'],
};
