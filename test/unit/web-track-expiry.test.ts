// The web app's credential tracking, in Node: the countdown follows every credential the SDK gets,
// and the wrapped provider still behaves as the one it wraps.
import { expect, test, vi } from 'vitest';
import type { BrokerCredentialsProvider } from '../../client/credentials.js';
import { trackExpiry } from '../../client/web/src/track-expiry.js';

vi.mock('keyhole/client', () => import('../../client/index.js'));

test('trackExpiry reports each expiry and forwards options, grant, clear, brokerRequests and confirmUpload', async () => {
  const expirations = [new Date('2030-01-01T00:15:00Z'), new Date('2030-01-01T00:30:00Z')];
  const grant = { bucket: 'b', prefix: 'users/a/', access: ['read'] };
  const verdict = { status: 'accepted', key: 'a.png', size: 1, contentType: 'image/png', etag: 'e' };
  const calls: unknown[] = [];
  const provider = Object.assign(
    async (options?: { forceRefresh?: boolean }) => {
      calls.push(options);
      return {
        accessKeyId: 'AK',
        secretAccessKey: 'SK',
        sessionToken: 'ST',
        expiration: expirations[calls.length - 1]!,
      };
    },
    { grant: vi.fn(async () => grant), clear: vi.fn(), brokerRequests: 7, confirmUpload: vi.fn(async () => verdict) },
  ) as unknown as BrokerCredentialsProvider;
  const seen: number[] = [];
  const tracked = trackExpiry(provider, (at) => seen.push(at));

  expect((await tracked()).accessKeyId).toBe('AK');
  await tracked({ forceRefresh: true });
  expect(calls).toEqual([undefined, { forceRefresh: true }]);
  expect(seen).toEqual(expirations.map((d) => d.getTime()));
  expect(await tracked.grant()).toBe(grant);
  tracked.clear();
  expect(provider.clear).toHaveBeenCalledOnce();
  expect(tracked.brokerRequests).toBe(7);
  // The web app's confirm (issue 15) goes through the wrapper too.
  expect(await tracked.confirmUpload!('a.png', 'users/a/')).toBe(verdict);
  expect(provider.confirmUpload).toHaveBeenCalledWith('a.png', 'users/a/');
});
