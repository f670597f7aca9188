// A credential vendor that needs no STS: it records every request and mints unique fake keys, so
// broker behaviour (cache, errors, headers) can be tested without RGW.
import type { CredentialVendor, IssueRequest, IssuedCredentials } from '../../server/index.js';

export interface FakeVendor extends CredentialVendor {
  /** Every request that reached `issue`, in order. */
  readonly seen: (IssueRequest & { identityId: string })[];
}

export function fakeVendor(
  overrides: { issue?: (r: IssueRequest & { identityId: string }) => Promise<IssuedCredentials>; kind?: string } = {},
): FakeVendor {
  const seen: (IssueRequest & { identityId: string })[] = [];
  let n = 0;
  return {
    kind: overrides.kind ?? 'fake',
    seen,
    identityIdFor: async (sub: string) => sub.replace(/[^A-Za-z0-9._@+=-]/g, '_'),
    issue: async (r) => {
      seen.push(r);
      if (overrides.issue) return overrides.issue(r);
      n++;
      return {
        accessKeyId: `FAKE${String(n).padStart(6, '0')}`,
        secretAccessKey: `secret-${n}`,
        sessionToken: `token-${n}`,
        expiration: new Date(Date.now() + r.durationSeconds * 1000),
      };
    },
    ping: async () => {},
    upstreamCalls: () => seen.length,
  };
}
