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

const EXPECTED =
  'must be false, the number of proxies in front of the broker (e.g. 1), ' +
  'or their addresses/CIDRs (e.g. "10.0.0.0/8", "loopback")';

/**
 * Reads a trust-proxy setting: the value in the form Express's `trust proxy` setting takes, or
 * why it is refused (a sentence to put after the setting's name). `true` is refused: it trusts
 * the left-most `X-Forwarded-For` entry, which the client itself writes, so anyone could choose
 * the address that rate limits, the audit log and `aws:SourceIp` binding see.
 */
export function readTrustProxy(value: unknown): { value: false | number | string[] } | { refused: string } {
  if (value === undefined || value === false) return { value: false };
  if (value === true) {
    return {
      refused: `must not be true: that trusts the left-most X-Forwarded-For entry, which the client writes; ${EXPECTED}`,
    };
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 1 && value <= 10 ? { value } : { refused: EXPECTED };
  }
  const entries = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  const list = entries?.map((e) => (typeof e === 'string' ? e.trim() : '')).filter((e) => e !== '');
  if (!list || list.length === 0 || !list.every((e) => NAMED.has(e) || isAddressOrCidr(e))) {
    return { refused: EXPECTED };
  }
  return { value: list };
}

/**
 * Checks a trust-proxy setting ({@link readTrustProxy}); throws a TypeError naming `name` when
 * it is refused.
 */
export function checkTrustProxy(value: unknown, name: string): false | number | string[] {
  const read = readTrustProxy(value);
  if ('refused' in read) throw new TypeError(`${name} ${read.refused}`);
  return read.value;
}
