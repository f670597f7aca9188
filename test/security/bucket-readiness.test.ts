// /readyz refuses a bucket whose settings let an ACL sneak past the session policy (multipart,
// copy: RGW exposes no ACL condition key there), on the real RGW with a throwaway bucket. The
// vendor half of /readyz uses a deny-all session policy, so any bucket name passes it.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeletePublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerOptions, GrantRule } from '../../server/index.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { ownerS3, stackBucketInspector } from '../helpers/stack.js';

const bucket = `keyhole-readiness-${randomBytes(4).toString('hex')}`;
const grants: GrantRule[] = [{ bucket, scopes: [{ prefix: 'users/{sub}/', access: ['read', 'write'] }] }];

/** The detail server/bucket-safety.ts gives for a bucket that neither disables nor ignores ACLs. */
const UNHARDENED =
  `bucket "${bucket}": ACLs are neither disabled nor ignored, so a vended credential could publish an ` +
  'object with x-amz-acl: public-read; set Object Ownership to BucketOwnerEnforced, or Block Public Access ' +
  'IgnorePublicAcls (npm run local:up does this locally), or accept the risk explicitly';

const brokers: TestBroker[] = [];
async function broker(overrides: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const b = await startBroker({ grants, ...overrides });
  brokers.push(b);
  return b;
}

async function readyz(b: TestBroker) {
  const res = await fetch(`${b.url}/readyz`);
  return { status: res.status, cacheControl: res.headers.get('cache-control'), body: (await res.json()) as any };
}

/** The startup bucket check runs in the background: wait until it has logged its verdict. */
async function startupVerdict(b: TestBroker, event: string) {
  for (let i = 0; i < 100 && !b.logs.some((l) => l.event === event); i++) await new Promise((r) => setTimeout(r, 20));
  return b.logs.filter((l) => String(l.event).startsWith('bucket.'));
}

describe('/readyz and the bucket ACL check (RGW, throwaway bucket)', () => {
  beforeAll(async () => {
    await ownerS3().send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await ownerS3().send(new DeleteBucketCommand({ Bucket: bucket }));
  });

  describe('without public-access settings', () => {
    it('a new broker makes no STS call, logs one bucket.unsafe error, and /readyz answers 503 bucket_not_hardened', async () => {
      const b = await broker();
      expect(b.vendor.upstreamCalls()).toBe(0);
      const lines = await startupVerdict(b, 'bucket.unsafe');
      expect(b.vendor.upstreamCalls()).toBe(0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ event: 'bucket.unsafe', detail: UNHARDENED, msg: `not ready: ${UNHARDENED}` });
      expect(lines[0]!.level).toBe(50); // pino "error"

      const ready = await readyz(b);
      expect(ready).toEqual({
        status: 503,
        cacheControl: 'no-store',
        body: { error: { code: 'bucket_not_hardened', message: UNHARDENED } },
      });
      // The vendor half ran (and passed): the 503 is the bucket's alone.
      expect(b.vendor.upstreamCalls()).toBe(1);
      // The same verdict again is not logged twice.
      expect(b.logs.filter((l) => l.event === 'bucket.unsafe')).toHaveLength(1);
    });

    it("bucketCheck: 'accept-risk' is ready anyway and says the bucket was not checked", async () => {
      const b = await broker({ bucketCheck: 'accept-risk' });
      const ready = await readyz(b);
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: 'ready',
        vendor: 'sts',
        buckets: [{ bucket, aclsNeutralised: false, detail: `bucket "${bucket}": not checked (accept-risk)` }],
      });
      const lines = b.logs.filter((l) => String(l.event).startsWith('bucket.'));
      expect(lines.map((l) => [l.event, l.level])).toEqual([['bucket.risk_accepted', 40]]);
    });

    it('no bucketCheck at all: 503 bucket_unchecked', async () => {
      // startBroker's default is the stack inspector; an explicit undefined removes it.
      const b = await broker({ bucketCheck: undefined } as unknown as Partial<BrokerOptions>);
      const ready = await readyz(b);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({
        error: {
          code: 'bucket_unchecked',
          message: `bucket "${bucket}": not checked; pass options.bucketCheck (createBucketInspector) or "accept-risk"`,
        },
      });
    });
  });

  describe('after PutPublicAccessBlock IgnorePublicAcls', () => {
    beforeAll(async () => {
      await ownerS3().send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: false,
            IgnorePublicAcls: true,
            BlockPublicPolicy: false,
            RestrictPublicBuckets: false,
          },
        }),
      );
    });
    afterAll(async () => {
      await ownerS3().send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    });

    it('a new broker is ready and lists the bucket with aclsNeutralised: true', async () => {
      const b = await broker({ bucketCheck: stackBucketInspector() });
      expect(b.vendor.upstreamCalls()).toBe(0);
      const lines = await startupVerdict(b, 'bucket.safe');
      expect(lines.map((l) => l.event)).toEqual(['bucket.safe']);
      const ready = await readyz(b);
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: 'ready',
        vendor: 'sts',
        buckets: [
          {
            bucket,
            aclsNeutralised: true,
            detail: `bucket "${bucket}": Block Public Access IgnorePublicAcls is on (ACLs ignored)`,
          },
        ],
      });
    });
  });
});
