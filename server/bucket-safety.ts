import {
  GetBucketOwnershipControlsCommand,
  GetPublicAccessBlockCommand,
  S3Client,
  type PublicAccessBlockConfiguration,
} from '@aws-sdk/client-s3';
import { describeCause, unanswered } from './vendors/raw-error-code.js';

/** Whether objects written with vended credentials could be made readable through ACLs. */
export interface BucketSafety {
  /** True when ACLs on new and existing objects are ignored or disabled. */
  readonly safe: boolean;
  /** One line saying what was found and, when unsafe, what to change. */
  readonly detail: string;
}

/** Reads one bucket's settings. Never throws: a failure to read is reported as unsafe. */
export type BucketInspector = (bucket: string) => Promise<BucketSafety>;

/** Options for {@link createBucketInspector}. */
export interface BucketInspectorOptions {
  readonly region: string;
  /** S3 endpoint for non-AWS backends such as Ceph RGW. Default: AWS. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** The broker's own credentials. Default: the SDK's default provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Pre-built client, for tests. */
  readonly client?: S3Client;
}

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | null;
  return e?.Code ?? e?.name ?? 'error';
}

/**
 * Creates the check behind `/readyz`'s bucket verdict. A bucket is safe when its Object Ownership
 * is `BucketOwnerEnforced` (ACLs disabled: AWS) or its Block Public Access has `IgnorePublicAcls`
 * (ACLs ignored: AWS and Ceph RGW). Either way an `x-amz-acl: public-read` that slips past the
 * session policy (multipart, copy) has no effect. Needs `s3:GetBucketOwnershipControls` and
 * `s3:GetBucketPublicAccessBlock` on the bucket for the broker's own identity.
 *
 * @example
 * ```ts
 * const inspect = createBucketInspector({ region: 'eu-west-1' })
 * await inspect('uploads') // { safe: true, detail: 'Object Ownership is BucketOwnerEnforced (ACLs disabled)' }
 * ```
 */
export function createBucketInspector(options: BucketInspectorOptions): BucketInspector {
  if (typeof options?.region !== 'string' || options.region === '') {
    throw new TypeError('options.region must be a non-empty string');
  }
  const client =
    options.client ??
    new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      maxAttempts: 2,
    });

  return async (bucket) => {
    let ownership: string | undefined;
    try {
      const out = await client.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }));
      // RGW 16 ignores the subresource and answers with a listing: no rules, which reads as unset.
      ownership = out.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
    } catch {
      // OwnershipControlsNotFoundError, or a backend without the API: fall back to Block Public Access.
    }
    if (ownership === 'BucketOwnerEnforced') {
      return { safe: true, detail: `bucket "${bucket}": Object Ownership is BucketOwnerEnforced (ACLs disabled)` };
    }
    let block: PublicAccessBlockConfiguration | undefined;
    try {
      block = (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
    } catch (err) {
      const name = errorName(err);
      if (name !== 'NoSuchPublicAccessBlockConfiguration' && unanswered(err)) {
        // Never sent (no credentials, a bad endpoint): permissions are not the problem yet.
        return {
          safe: false,
          detail: `bucket "${bucket}": cannot read its Block Public Access settings (${name}: ${describeCause(err) ?? 'no answer'})`,
        };
      }
      if (name !== 'NoSuchPublicAccessBlockConfiguration') {
        return {
          safe: false,
          detail:
            `bucket "${bucket}": cannot read its Block Public Access settings (${name}); give the broker ` +
            's3:GetBucketPublicAccessBlock and s3:GetBucketOwnershipControls on it',
        };
      }
    }
    if (block?.IgnorePublicAcls === true) {
      return { safe: true, detail: `bucket "${bucket}": Block Public Access IgnorePublicAcls is on (ACLs ignored)` };
    }
    return {
      safe: false,
      detail:
        `bucket "${bucket}": ACLs are neither disabled nor ignored, so a vended credential could publish an ` +
        'object with x-amz-acl: public-read; set Object Ownership to BucketOwnerEnforced, or Block Public Access ' +
        'IgnorePublicAcls (npm run local:up does this locally), or accept the risk explicitly',
    };
  };
}
