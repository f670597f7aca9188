import * as z from 'zod/mini';

/** Path of the upload completion endpoint, relative to the broker's base URL. */
export const UPLOADS_COMPLETE_PATH = 'v1/uploads/complete';

/** Why the broker rejected an upload (the verdict's and the webhook's `reason`). */
export const REJECT_REASONS = Object.freeze([
  'too_large',
  'type_not_allowed',
  'type_mismatch',
  'quota_exceeded',
] as const);

/** Runtime schema of one rejection reason. */
export const RejectReasonSchema = z.enum(REJECT_REASONS);

/** Why the broker rejected an upload. */
export type RejectReason = z.infer<typeof RejectReasonSchema>;

/**
 * Body of `POST /v1/uploads/complete`: the key relative to `prefix` (default: the grant's first
 * prefix, the credentials response's `prefix`).
 */
export interface UploadCompleteRequest {
  readonly key: string;
  readonly prefix?: string;
}

const nonEmpty = z.string().check(z.minLength(1));
const size = z.number().check(z.int(), z.nonnegative());

/**
 * The broker's verdict on an uploaded object, the answer to `POST /v1/uploads/complete`. A rejected
 * object is already gone (deleted, or moved where the user cannot read it). `contentType` is the
 * type read from the object's bytes when the rules asked for one and it was recognised, else the
 * declared one. The client validates every answer against this schema.
 */
export const UploadVerdictSchema = z
  .object({
    status: z.enum(['accepted', 'rejected']),
    reason: z.optional(RejectReasonSchema),
    /** The key relative to the prefix, as sent. */
    key: nonEmpty,
    size,
    contentType: nonEmpty,
    /** The object's ETag, without quotes. */
    etag: nonEmpty,
    /** With `too_large` or `quota_exceeded`: the rule's limit in bytes (`maxBytes`, `quotaBytes`). */
    limit: z.optional(size),
    /** With `type_not_allowed` or `type_mismatch`: the scope's `contentTypes`. */
    allowed: z.optional(z.array(nonEmpty)),
  })
  .check(
    z.refine(
      (v) => (v.status === 'rejected') === (v.reason !== undefined),
      'a rejected verdict has a reason, an accepted one none',
    ),
  );

/** The broker's verdict on an uploaded object. */
export type UploadVerdict = z.infer<typeof UploadVerdictSchema>;

/** The event types the broker delivers (webhook `type`, `onUpload`'s `event.type`). */
export const UPLOAD_EVENT_TYPES = Object.freeze(['upload.accepted', 'upload.rejected'] as const);

/**
 * One upload outcome, as the webhook's JSON body (Standard Webhooks: `type`, `timestamp`, `data`).
 * `data.key` is the full S3 key; `data.subject` the caller's `sub`; `data.reason` null when accepted.
 */
export const UploadEventSchema = z.object({
  type: z.enum(UPLOAD_EVENT_TYPES),
  timestamp: z.iso.datetime(),
  data: z.object({
    bucket: nonEmpty,
    key: nonEmpty,
    subject: nonEmpty,
    size,
    contentType: nonEmpty,
    etag: nonEmpty,
    reason: z.nullable(RejectReasonSchema),
  }),
});

/** One upload outcome, as delivered to `onUpload` and in the webhook's body. */
export type UploadEvent = z.infer<typeof UploadEventSchema>;
