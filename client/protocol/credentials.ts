import * as z from 'zod/mini';
import { AccessSchema } from './access.js';

/** Path of the credentials endpoint, relative to the broker's base URL. */
export const CREDENTIALS_PATH = 'v1/credentials';

/**
 * Body of `POST /v1/credentials`. Empty (or `{}`) asks for everything the grant gives;
 * `access` asks for a subset.
 */
export interface CredentialsRequest {
  readonly access?: readonly z.infer<typeof AccessSchema>[];
}

const nonEmpty = z.string().check(z.minLength(1));
const accessList = z.array(AccessSchema).check(z.minLength(1));
// A relative key prefix: never empty, never absolute, always a whole folder ("users/alice/").
const prefix = z.string().check(
  z.minLength(2),
  z.endsWith('/'),
  z.refine((p) => !p.startsWith('/'), 'must not start with "/"'),
  // Keys are built by appending to the prefix: a "." or ".." segment, an empty one ("a//") or a
  // control character would make keys that S3 and the client's own key rules read differently.
  z.refine(
    // Only judged once the shape is right, so a bad prefix gets one message, not three.
    (p) =>
      p.length < 2 ||
      !p.endsWith('/') ||
      p.startsWith('/') ||
      p
        .slice(0, -1)
        .split('/')
        .every((s) => s !== '' && s !== '.' && s !== '..'),
    'must not contain empty, "." or ".." segments',
  ),
  z.refine((p) => !/[\u0000-\u001f\u007f-\u009f]/u.test(p), 'must not contain control characters'),
);

/** One prefix of a grant with several (Amplify's `private/{identityId}/`, `protected/`...). */
export const ScopeSchema = z.object({ prefix, access: accessList });

/**
 * The broker's answer to `POST /v1/credentials`: short-lived credentials and what they reach.
 * The client validates every answer against this schema before it uses it.
 */
export const CredentialsResponseSchema = z.object({
  credentials: z.object({
    accessKeyId: nonEmpty,
    secretAccessKey: nonEmpty,
    sessionToken: nonEmpty,
    /** ISO 8601 instant (UTC) after which the credentials no longer work. */
    expiration: z.iso.datetime(),
  }),
  bucket: nonEmpty,
  region: nonEmpty,
  /** The caller's key prefix, ending in "/". */
  prefix,
  identityId: nonEmpty,
  access: accessList,
  /** Present only when the grant has several prefixes; the first is `prefix`. */
  scopes: z.optional(z.array(ScopeSchema).check(z.minLength(2))),
  /** S3 endpoint for non-AWS backends (Ceph RGW, MinIO...). */
  endpoint: z.optional(z.url({ protocol: /^https?$/ })),
  forcePathStyle: z.optional(z.boolean()),
});

/** The broker's answer to `POST /v1/credentials`, as sent on the wire. */
export type CredentialsResponse = z.infer<typeof CredentialsResponseSchema>;
