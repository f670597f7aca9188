// Keyhole credentials for Uppy's `@uppy/aws-s3` (v6), instead of Companion's whole-bucket keys:
// every S3 request Uppy sends is signed in the browser with the broker's prefix-scoped credentials,
// and keys go under the granted prefix. Two ways, both with the same credentials:
// - `getCredentials`, Uppy's temporary-credentials option: Uppy signs with its own SigV4 code. That
//   code signs the query as URLSearchParams writes it, with "~" as "%7E", while S3 signs "~": an
//   upload id holding "~" (Ceph RGW's all do, "2~...") fails with SignatureDoesNotMatch, so
//   multipart breaks there. AWS S3's upload ids have no "~".
// - `signRequest`: each request presigned by the AWS SDK's signer (already in the client's bundle),
//   which encodes as S3 does. The default when the grant names an endpoint (not AWS).
import { S3Client } from '@aws-sdk/client-s3';
import type { BrokerCredentialsProvider, Grant } from './credentials.js';
import { fullKey } from './keys.js';

/** What `@uppy/aws-s3` 6's `getCredentials` returns. */
export interface UppyCredentials {
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
    /** ISO 8601. */
    readonly expiration?: string;
  };
  readonly region: string;
}

/** The request `@uppy/aws-s3` 6 asks `signRequest` to presign. */
export interface UppyPresignRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly key: string;
  readonly uploadId?: string;
  readonly partNumber?: number;
  readonly expiresIn?: number;
}

interface UppyKeyOption {
  /** The granted prefix, then `key(file)` (default: the file's name). */
  readonly generateObjectKey: (file: { readonly name?: string }) => string;
}

/** `@uppy/aws-s3` options for its temporary-credentials mode. */
export interface UppyCredentialsOptions extends UppyKeyOption {
  /** The bucket's URL: path-style on the grant's endpoint, else AWS's virtual-hosted URL. */
  readonly s3Endpoint: string;
  readonly region: string;
  readonly getCredentials: () => Promise<UppyCredentials>;
}

/** `@uppy/aws-s3` options for its custom-signing mode. */
export interface UppyPresignOptions extends UppyKeyOption {
  readonly signRequest: (request: UppyPresignRequest) => Promise<{ url: string }>;
}

export type UppyAwsS3Options = UppyCredentialsOptions | UppyPresignOptions;

/** encodeURIComponent, and also !'()* as SigV4 wants; "~" stays as it is. */
function escape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The part of the SDK's S3 signer used here. */
interface Presigner {
  presign(
    request: object,
    options: { expiresIn: number },
  ): Promise<{ protocol: string; hostname: string; port?: number; path: string; query: Record<string, string> }>;
}

/** Presigns Uppy's requests with the SDK's SigV4 signer, signing with `credentials`. */
function presigner(credentials: BrokerCredentialsProvider, grant: Grant): UppyPresignOptions['signRequest'] {
  const endpoint = grant.endpoint ? new URL(grant.endpoint) : undefined;
  const client = new S3Client({
    region: grant.region,
    credentials,
    ...(endpoint ? { endpoint: endpoint.href, forcePathStyle: grant.forcePathStyle ?? true } : {}),
  });
  const pathStyle = endpoint !== undefined && (grant.forcePathStyle ?? true);
  const hostname = endpoint?.hostname ?? `${grant.bucket}.s3.${grant.region}.amazonaws.com`;
  return async (request) => {
    const query: Record<string, string> = {};
    if (request.uploadId !== undefined) query.uploadId = request.uploadId;
    if (request.partNumber !== undefined) query.partNumber = String(request.partNumber);
    if (request.method === 'POST' && request.uploadId === undefined) query.uploads = '';
    const key = request.key.split('/').map(escape).join('/');
    const signer = (await client.config.signer()) as unknown as Presigner;
    const signed = await signer.presign(
      {
        method: request.method,
        protocol: endpoint?.protocol ?? 'https:',
        hostname,
        ...(endpoint?.port ? { port: Number(endpoint.port) } : {}),
        path: pathStyle ? `/${escape(grant.bucket)}/${key}` : `/${key}`,
        query,
        // As the SDK's own presigner does: the body is not signed (it is sent later, by Uppy).
        headers: { host: endpoint?.host ?? hostname, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: request.expiresIn ?? 900 },
    );
    const search = Object.entries(signed.query)
      .map(([k, v]) => `${escape(k)}=${escape(v)}`)
      .join('&');
    const port = signed.port ? `:${signed.port}` : '';
    return { url: `${signed.protocol}//${signed.hostname}${port}${signed.path}?${search}` };
  };
}

/**
 * Options for Uppy's `AwsS3` plugin (`@uppy/aws-s3` 6) that sign with the broker's credentials:
 * `uppy.use(AwsS3, { ...(await uppyAwsS3Options(credentials)), shouldUseMultipart: … })`.
 * Objects go to `<prefix><key(file)>`; a file name that makes no valid key is refused (InvalidKeyError).
 *
 * `sign: 'credentials'` gives Uppy's temporary-credentials option (`s3Endpoint`, `region`,
 * `getCredentials`); Uppy asks again after S3 answers ExpiredToken. `sign: 'presign'` gives
 * `signRequest`. Default: `'credentials'` on AWS, `'presign'` when the grant names an endpoint
 * (Ceph RGW and others whose upload ids hold "~", which Uppy's own signer gets wrong).
 */
export async function uppyAwsS3Options(
  credentials: BrokerCredentialsProvider,
  options: {
    readonly key?: (file: { readonly name?: string }) => string;
    readonly sign?: 'credentials' | 'presign';
  } = {},
): Promise<UppyAwsS3Options> {
  if (typeof credentials !== 'function' || typeof credentials.grant !== 'function') {
    throw new TypeError('credentials must be a provider from brokerCredentials(...)');
  }
  if (options.sign !== undefined && options.sign !== 'credentials' && options.sign !== 'presign') {
    throw new TypeError('options.sign must be "credentials" or "presign"');
  }
  const grant = await credentials.grant();
  const key = options.key ?? ((file) => file.name ?? '');
  const generateObjectKey = (file: { readonly name?: string }) => fullKey(grant.prefix, key(file));
  if ((options.sign ?? (grant.endpoint ? 'presign' : 'credentials')) === 'presign') {
    return { signRequest: presigner(credentials, grant), generateObjectKey };
  }
  const s3Endpoint = grant.endpoint
    ? `${grant.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(grant.bucket)}`
    : `https://${grant.bucket}.s3.${grant.region}.amazonaws.com`;
  return {
    s3Endpoint,
    region: grant.region,
    getCredentials: async () => {
      const c = await credentials();
      return {
        credentials: {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          sessionToken: c.sessionToken ?? '',
          ...(c.expiration ? { expiration: c.expiration.toISOString() } : {}),
        },
        region: grant.region,
      };
    },
    generateObjectKey,
  };
}
