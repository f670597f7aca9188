// The presigned-URL baseline. For comparison only, never part of the product API: it stands for
// the usual "ask the app for a URL per upload" design, with the broker's JWT check and grants so
// that both designs do the same auth work per app request. It signs with the bucket owner's keys.
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { fullKey } from '../../../client/keys.js';
import { createTokenVerifier, KeyholeError, type GrantRule, type TrustedIssuer } from '../../../server/index.js';
import { compileGrants, resolveGrant } from '../../../server/grants.js';
import { bearerToken } from '../../../server/http/bearer.js';
import type { Access } from '../../../server/policy/access.js';
import { encodeSegment } from '../../../server/policy/subject.js';

export interface PresignServerOptions {
  readonly issuers: readonly TrustedIssuer[];
  readonly grants: readonly GrantRule[];
  readonly region: string;
  readonly endpoint: string;
  readonly ownerCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** URL lifetime, seconds. Default 900, like the broker's credentials. */
  readonly expiresInSeconds?: number;
}

const MAX_PARTS = 10_000;
/** Most objects one batch request presigns. */
const MAX_BATCH = 1000;

export function createPresignServer(options: PresignServerOptions): Express {
  const verify = createTokenVerifier({ issuers: options.issuers });
  const rules = compileGrants(options.grants);
  const expiresIn = options.expiresInSeconds ?? 900;
  const s3 = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: true,
    credentials: { ...options.ownerCredentials },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  // The caller's bucket and prefix, scoped exactly as the broker's grant would scope them.
  async function scopeOf(req: Request, access: Access): Promise<{ bucket: string; prefix: string }> {
    const claims = await verify(bearerToken(req));
    const identityId = encodeSegment(claims.sub, 'sub');
    const grant = resolveGrant(rules, { ...claims, identityId }, [access]);
    return { bucket: grant.bucket, prefix: grant.scopes[0]!.prefix };
  }

  function keyIn(scope: { bucket: string; prefix: string }, key: unknown): { Bucket: string; Key: string } {
    if (typeof key !== 'string') throw new KeyholeError('invalid_body', 400, 'key must be a string');
    try {
      return { Bucket: scope.bucket, Key: fullKey(scope.prefix, key) };
    } catch (err) {
      throw new KeyholeError('invalid_body', 400, (err as Error).message);
    }
  }

  // The caller's bucket and full key.
  async function target(req: Request, access: Access): Promise<{ Bucket: string; Key: string }> {
    return keyIn(await scopeOf(req, access), (req.body as { key?: unknown } | undefined)?.key);
  }

  function positiveInt(value: unknown, name: string, max: number): number {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      throw new KeyholeError('invalid_body', 400, `${name} must be an integer from 1 to ${max}`);
    }
    return value as number;
  }

  const route =
    (handler: (req: Request) => Promise<unknown>) =>
    (req: Request, res: Response, next: NextFunction): void => {
      handler(req).then((out) => res.set('Cache-Control', 'no-store').json(out), next);
    };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: 1024 * 1024 }));

  app.post(
    '/presign/put',
    route(async (req) => ({
      url: await getSignedUrl(s3, new PutObjectCommand(await target(req, 'write')), { expiresIn }),
    })),
  );

  // Batched presign: one request, one token check, a URL per key (the cheapest presigned PUT can be in
  // app requests, for an app that knows all its files at once).
  app.post(
    '/presign/put/batch',
    route(async (req) => {
      const scope = await scopeOf(req, 'write');
      const keys = (req.body as { keys?: unknown } | undefined)?.keys;
      if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_BATCH) {
        throw new KeyholeError('invalid_body', 400, `keys must be an array of 1 to ${MAX_BATCH} keys`);
      }
      const targets = keys.map((key) => keyIn(scope, key));
      return { urls: await Promise.all(targets.map((t) => getSignedUrl(s3, new PutObjectCommand(t), { expiresIn }))) };
    }),
  );

  app.post(
    '/presign/post',
    route(async (req) => {
      const { Bucket, Key } = await target(req, 'write');
      const size = positiveInt(req.body.size, 'size', 5 * 1024 ** 3);
      // The one thing presigned POST can do that credentials cannot: cap the object's size.
      return createPresignedPost(s3, {
        Bucket,
        Key,
        Conditions: [['content-length-range', size, size]],
        Expires: expiresIn,
      });
    }),
  );

  app.post(
    '/presign/multipart/create',
    route(async (req) => {
      const where = await target(req, 'write');
      const parts = positiveInt(req.body.parts, 'parts', MAX_PARTS);
      const created = await s3.send(new CreateMultipartUploadCommand(where));
      const UploadId = created.UploadId!;
      // All part URLs in one answer: the cheapest presigned multipart can be in app requests.
      const urls = await Promise.all(
        Array.from({ length: parts }, (_, i) =>
          getSignedUrl(s3, new UploadPartCommand({ ...where, UploadId, PartNumber: i + 1 }), { expiresIn }),
        ),
      );
      return { uploadId: UploadId, urls };
    }),
  );

  app.post(
    '/presign/multipart/complete',
    route(async (req) => {
      const where = await target(req, 'write');
      const { uploadId, etags } = req.body as { uploadId?: unknown; etags?: unknown };
      if (typeof uploadId !== 'string' || !Array.isArray(etags) || !etags.every((e) => typeof e === 'string')) {
        throw new KeyholeError('invalid_body', 400, 'uploadId must be a string and etags an array of strings');
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          ...where,
          UploadId: uploadId,
          MultipartUpload: { Parts: (etags as string[]).map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      return { ok: true };
    }),
  );

  app.post(
    '/presign/get',
    route(async (req) => ({
      url: await getSignedUrl(s3, new GetObjectCommand(await target(req, 'read')), { expiresIn }),
    })),
  );

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof KeyholeError ? err : new KeyholeError('internal_error', 500, 'internal error');
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  });
  return app;
}
