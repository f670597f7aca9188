import { isIP } from 'node:net';

/** Which proxies in front of the broker may set `X-Forwarded-For`: a hop count, or their addresses. */
export type TrustProxy = false | number | string | readonly string[];

// proxy-addr's (Express's) named ranges.
const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  if (extra !== undefined || isIP(address) === 0) return false;
  if (bits === undefined) return true;
  const max = isIP(address) === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * Checks a trust-proxy setting. `true` is refused: it trusts the left-most `X-Forwarded-For`
 * entry, which the client itself writes, so anyone could choose the address that rate limits,
 * the audit log and `aws:SourceIp` binding see. Throws a TypeError naming `name` otherwise.
 * Returns the value in the form Express's `trust proxy` setting takes.
 */
export function checkTrustProxy(value: unknown, name: string): false | number | string[] {
  const hint =
    `${name} must be false, the number of proxies in front of the broker (e.g. 1), ` +
    'or their addresses/CIDRs (e.g. "10.0.0.0/8", "loopback")';
  if (value === undefined || value === false) return false;
  if (value === true) {
    throw new TypeError(
      `${name} must not be true: that trusts the left-most X-Forwarded-For entry, which the client writes; ${hint.slice(name.length + 1)}`,
    );
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 10) throw new TypeError(hint);
    return value;
  }
  const entries = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  const list = entries?.map((e) => (typeof e === 'string' ? e.trim() : '')).filter((e) => e !== '');
  if (!list || list.length === 0 || !list.every((e) => NAMED.has(e) || isAddressOrCidr(e))) {
    throw new TypeError(hint);
  }
  return list;
}
