// Seeing every credential the SDK gets, for the page's countdown. DOM-free, unit-tested in Node.
import type { BrokerCredentialsProvider } from 'keyhole/client';

/**
 * Wraps `provider` to call `onCredentials` with the expiry of every credential the SDK gets,
 * refreshes included: the page's countdown follows them without polling the provider.
 */
export function trackExpiry(
  provider: BrokerCredentialsProvider,
  onCredentials: (expiresAt: number) => void,
): BrokerCredentialsProvider {
  const tracked = (async (options?: { forceRefresh?: boolean }) => {
    const creds = await provider(options);
    onCredentials(creds.expiration.getTime());
    return creds;
  }) as BrokerCredentialsProvider;
  Object.defineProperties(tracked, {
    grant: { value: () => provider.grant() },
    clear: { value: () => provider.clear() },
    brokerRequests: { get: () => provider.brokerRequests },
    // `storage.upload(…, { confirm: true })` asks the provider for the verdict.
    ...(provider.confirmUpload
      ? { confirmUpload: { value: (key: string, prefix?: string) => provider.confirmUpload!(key, prefix) } }
      : {}),
  });
  return tracked;
}
