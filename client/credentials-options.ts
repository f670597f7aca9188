import { isAccess, type Access } from './protocol/access.js';
import { CREDENTIALS_PATH } from './protocol/credentials.js';
import type { BrokerCredentialsOptions } from './credentials.js';

/** {@link BrokerCredentialsOptions}, checked, with defaults applied and copied (later edits do not leak in). */
export interface BrokerSettings {
  /** Absolute URL of the credentials endpoint. */
  readonly endpoint: string;
  readonly getToken: BrokerCredentialsOptions['getToken'];
  /** The access to ask for; undefined asks for the full grant. */
  readonly access: readonly Access[] | undefined;
  readonly refreshBeforeSeconds: number;
  readonly maxLifetimeSeconds: number | undefined;
  readonly retries: number;
  readonly fetch: typeof fetch;
}

/**
 * Checks `brokerCredentials` options and fills in defaults. A wrong option is the developer's
 * mistake, so it throws at once a TypeError or RangeError naming the option, not a
 * KeyholeClientError that an app would show its user.
 */
export function brokerSettings(options: BrokerCredentialsOptions): BrokerSettings {
  if (!options || typeof options !== 'object') throw new TypeError('options must be an object');
  let endpoint: string;
  try {
    const base = options.brokerUrl.endsWith('/') ? options.brokerUrl : options.brokerUrl + '/';
    endpoint = new URL(CREDENTIALS_PATH, base).href;
  } catch {
    throw new TypeError('options.brokerUrl must be an absolute URL such as "https://auth.example.com"');
  }
  if (typeof options.getToken !== 'function')
    throw new TypeError('options.getToken must be a function returning the user\u2019s JWT');
  const access = options.access === undefined ? undefined : [...options.access];
  if (access && (access.length === 0 || !access.every(isAccess))) {
    throw new TypeError('options.access must be a non-empty array of "read", "write", "list", "delete"');
  }
  const refreshBeforeSeconds = options.refreshBeforeSeconds ?? 300;
  if (!Number.isFinite(refreshBeforeSeconds) || refreshBeforeSeconds < 0)
    throw new RangeError('options.refreshBeforeSeconds must be a number >= 0');
  const cap = options.maxLifetimeSeconds;
  if (cap !== undefined && (!Number.isFinite(cap) || cap <= 0))
    throw new RangeError('options.maxLifetimeSeconds must be a number > 0');
  const retries = options.retries ?? 2;
  if (!Number.isInteger(retries) || retries < 0 || retries > 10)
    throw new RangeError('options.retries must be an integer from 0 to 10');
  return {
    endpoint,
    getToken: options.getToken,
    access,
    refreshBeforeSeconds,
    maxLifetimeSeconds: cap,
    retries,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
  };
}
