import type { RequestHandler } from 'express';
import type { BucketInspector, BucketSafety } from '../bucket-safety.js';
import { brokerError, isBrokerError, UpstreamError, type BrokerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SharedStateStatus } from '../shared/state.js';
import { describeCause } from '../vendors/raw-error-code.js';
import type { CredentialVendor } from '../vendors/vendor.js';
import { sendError } from './errors.js';

/** What `/readyz` checks: the vendor (the same call serving makes) and every granted bucket. */
export interface ReadinessOptions {
  readonly vendor: CredentialVendor;
  readonly durationSeconds: number;
  readonly buckets: readonly string[];
  readonly bucketCheck: BucketInspector | 'accept-risk' | undefined;
  readonly logger: Logger;
  /** The shared state's status (Redis or fallback), shown in the answer; never makes it unready. */
  readonly sharedState?: () => SharedStateStatus;
  /** How long one verdict is reused, in ms. */
  readonly ttlMs?: number;
}

interface Verdict {
  readonly at: number;
  readonly error?: BrokerError;
  readonly buckets: readonly (BucketSafety & { bucket: string })[];
}

async function checkBuckets(options: ReadinessOptions): Promise<Verdict['buckets']> {
  const check = options.bucketCheck;
  if (check === 'accept-risk') {
    return options.buckets.map((bucket) => ({
      bucket,
      safe: false,
      detail: `bucket "${bucket}": not checked (accept-risk)`,
    }));
  }
  if (check === undefined) {
    return options.buckets.map((bucket) => ({
      bucket,
      safe: false,
      detail: `bucket "${bucket}": not checked; pass options.bucketCheck (createBucketInspector) or "accept-risk"`,
    }));
  }
  return Promise.all(options.buckets.map(async (bucket) => ({ bucket, ...(await check(bucket)) })));
}

/**
 * `/readyz`: ready when the vendor issues credentials exactly as serving does and every bucket the
 * grants name ignores or disables ACLs (or the operator accepted that risk). One check runs at a
 * time and its verdict is shared; a change of verdict is logged once.
 */
export function readiness(options: ReadinessOptions): { handler: RequestHandler; checkBuckets: () => Promise<void> } {
  const ttl = options.ttlMs ?? 5000;
  let verdict: Verdict | undefined;
  let probing: Promise<Verdict> | undefined;
  let lastLogged: string | undefined;

  const report = (buckets: Verdict['buckets']) => {
    const unsafe = buckets.filter((b) => !b.safe);
    const line = unsafe.map((b) => b.detail).join('; ');
    if (line === lastLogged) return;
    lastLogged = line;
    if (unsafe.length === 0) options.logger.info({ event: 'bucket.safe', buckets: buckets.map((b) => b.detail) });
    else if (options.bucketCheck === 'accept-risk') {
      options.logger.warn({ event: 'bucket.risk_accepted', detail: line }, 'bucket ACL check skipped: risk accepted');
    } else options.logger.error({ event: 'bucket.unsafe', detail: line }, 'not ready: ' + line);
  };

  // The vendor's failure is logged when it changes (not at every probe), with its cause's own words.
  let vendorLogged: string | undefined;
  const reportVendor = (error: BrokerError | undefined) => {
    const line = error?.message;
    if (line === vendorLogged) return;
    const recovered = vendorLogged !== undefined;
    vendorLogged = line;
    if (error) {
      const cause = describeCause(error.cause);
      options.logger.error(
        {
          event: 'vendor.unready',
          code: error.code,
          ...(error instanceof UpstreamError && error.upstreamCode ? { upstreamCode: error.upstreamCode } : {}),
          ...(cause ? { cause } : {}),
        },
        `not ready: ${line}`,
      );
    } else if (recovered) {
      options.logger.info({ event: 'vendor.ready', vendor: options.vendor.kind }, 'vendor check passes again');
    }
  };

  const probe = async (): Promise<Verdict> => {
    const [vendorError, buckets] = await Promise.all([
      options.vendor.ping(options.durationSeconds).then(
        () => undefined,
        (err: unknown) =>
          isBrokerError(err)
            ? err
            : brokerError('not_ready', `vendor check failed: ${describeCause(err) ?? 'unknown error'}`, { cause: err }),
      ),
      checkBuckets(options),
    ]);
    report(buckets);
    reportVendor(vendorError);
    const unsafe = buckets.find((b) => !b.safe);
    const bucketError =
      unsafe && options.bucketCheck !== 'accept-risk'
        ? brokerError(options.bucketCheck === undefined ? 'bucket_unchecked' : 'bucket_not_hardened', unsafe.detail)
        : undefined;
    return {
      at: Date.now(),
      buckets,
      ...((vendorError ?? bucketError) ? { error: (vendorError ?? bucketError)! } : {}),
    };
  };

  const current = async (): Promise<Verdict> => {
    if (verdict && Date.now() - verdict.at <= ttl) return verdict;
    probing ??= probe().finally(() => (probing = undefined));
    verdict = await probing;
    return verdict;
  };

  return {
    handler: async (_req, res) => {
      const v = await current();
      res.set('Cache-Control', 'no-store');
      if (v.error) {
        sendError(res, 503, v.error.code, v.error.message);
        return;
      }
      res.json({
        status: 'ready',
        vendor: options.vendor.kind,
        buckets: v.buckets.map((b) => ({ bucket: b.bucket, aclsNeutralised: b.safe, detail: b.detail })),
        ...(options.sharedState ? { sharedState: options.sharedState() } : {}),
      });
    },
    // At startup: the bucket half only, so creating a broker never calls STS.
    checkBuckets: async () => report(await checkBuckets(options)),
  };
}
