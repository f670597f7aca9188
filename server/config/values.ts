// Building blocks for environment variables: each turns one string into a typed value, or fails
// with a message that says what was expected. Messages here are part of the documented interface.
import { z } from 'zod';
import type { RateLimit } from '../http/rate-limit.js';

export const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');

export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer from ${min} to ${max}`)
        .max(max, `expected an integer from ${min} to ${max}`),
    );

export const url = z.string().url('expected an absolute URL such as https://host:port');

export const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export const rate = z
  .string()
  .regex(/^(off|\d+\/\d+)$/, 'expected "LIMIT/WINDOW_SECONDS" such as "60/60", or "off"')
  .transform((v): RateLimit | false => {
    if (v === 'off') return false;
    const [limit, windowSeconds] = v.split('/').map(Number) as [number, number];
    return { limit, windowSeconds };
  })
  .refine((v) => v === false || (v.limit >= 1 && v.windowSeconds >= 1), 'expected positive numbers');

const BIND_HINT = 'expected "off", "on" (exact address) or "IPV4_BITS,IPV6_BITS" such as "24,64"';

/** `off`, `on` (the exact address) or `IPV4_BITS,IPV6_BITS`, as a grant's `bindSourceIp`. */
export const bindSourceIp = z
  .string()
  .regex(/^(off|on|\d{1,2},\d{1,3})$/, BIND_HINT)
  .transform((v) => {
    if (v === 'off') return false as const;
    if (v === 'on') return true as const;
    const [ipv4PrefixLength, ipv6PrefixLength] = v.split(',').map(Number) as [number, number];
    return { ipv4PrefixLength, ipv6PrefixLength };
  })
  .refine((v) => typeof v === 'boolean' || (v.ipv4PrefixLength <= 32 && v.ipv6PrefixLength <= 128), BIND_HINT);

/** A comma list of exact origins (scheme, host, port; no path, no "*"), as CORS compares them. */
export const origins = list.refine(
  (entries) => entries.every((o) => o !== '*' && URL.canParse(o) && new URL(o).origin === o),
  'expected a comma list of exact origins such as https://app.example.com (no path, no "*")',
);

/** `redis://` or `rediss://` (TLS), with host and optional user, password, port and database. */
export const redisUrl = z
  .string()
  .refine(
    (v) => URL.canParse(v) && ['redis:', 'rediss:'].includes(new URL(v).protocol) && new URL(v).hostname !== '',
    'expected a Redis URL such as redis://127.0.0.1:6379 or rediss://user:password@host:6380',
  );

const KEY_HINT = 'expected a comma list of 32-byte keys in base64, the first one encrypting (openssl rand -base64 32)';

/** AES-256 keys: base64 (or base64url) of exactly 32 bytes each, comma-separated. */
export const redisKeys = list
  .refine((keys) => keys.length > 0 && keys.every((k) => /^[A-Za-z0-9+/_-]{43}=?$/.test(k)), KEY_HINT)
  .transform((keys) => keys.map((k) => Buffer.from(k, k.includes('-') || k.includes('_') ? 'base64url' : 'base64')))
  .refine((keys) => keys.every((k) => k.length === 32), KEY_HINT);

/** `got "value"` for messages, cut at 60 characters. */
export function got(value: string): string {
  return `got ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)}`;
}
