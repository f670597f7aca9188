// Expiry instants come from the broker's clock. A device whose clock is off would otherwise keep
// dead credentials (clock behind) or refresh in a loop (clock ahead), so they are moved onto ours.

/** Below this, a difference is the Date header's 1 s resolution plus latency, not skew. */
const NOISE_MS = 2000;

/**
 * How far the broker's clock is ahead of ours (negative: behind), in ms, from its `Date` header and
 * the midpoint of our request; 0 without a usable header or when within the header's resolution.
 */
export function clockSkewMs(dateHeader: string | null, sentAt: number, receivedAt: number): number {
  const serverDate = Date.parse(dateHeader ?? '');
  if (Number.isNaN(serverDate)) return 0;
  const skew = serverDate - (sentAt + receivedAt) / 2;
  return Math.abs(skew) > NOISE_MS ? skew : 0;
}

/**
 * When credentials stop working, on our clock: the broker's `expiration` shifted by the skew, and
 * no later than `capSeconds` after `receivedAt` when a cap is set.
 */
export function localExpiry(
  expiration: string,
  skewMs: number,
  receivedAt: number,
  capSeconds: number | undefined,
): Date {
  const expires = Date.parse(expiration) - skewMs;
  return new Date(capSeconds === undefined ? expires : Math.min(expires, receivedAt + capSeconds * 1000));
}
