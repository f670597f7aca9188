// Two trusted issuers can both have a user called "alice". Unless the prefix names the issuer,
// they would share users/alice/. The broker refuses such a configuration at startup.
import { describe, expect, it } from 'vitest';
import { createBroker, type BrokerOptions } from '../../server/broker.js';
import { compileGrants, resolveGrant } from '../../server/grants.js';
import { testIssuer } from '../helpers/jwt.js';

const vendor = {
  kind: 'test',
  issue: () => Promise.reject(new Error('unused')),
  identityIdFor: (s: string) => Promise.resolve(s),
  ping: () => Promise.resolve(),
  upstreamCalls: () => 0,
};

describe('issuer separation', () => {
  it('refuses two issuers sharing a per-caller template without {iss}, naming the option', async () => {
    const [a, b] = await Promise.all([testIssuer('https://a.test/'), testIssuer('https://b.test/')]);
    const options: BrokerOptions = {
      issuers: [
        { issuer: a.issuer, audience: a.audience, publicKey: a.publicKeyPem },
        { issuer: b.issuer, audience: b.audience, publicKey: b.publicKeyPem },
      ],
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{sub}/', access: ['read'] }] }],
      vendor,
      region: 'eu-west-1',
    };
    expect(() => createBroker(options)).toThrow(
      new TypeError(
        'options.issuers lists 2 issuers, so subjects from different issuers could share prefix "users/{sub}/"; ' +
          'put {iss} in every per-caller prefix template, e.g. "users/{iss}/{sub}/"',
      ),
    );
    const separated = {
      ...options,
      grants: [{ bucket: 'uploads', scopes: [{ prefix: 'users/{iss}/{sub}/', access: ['read' as const] }] }],
    };
    expect(typeof createBroker(separated)).toBe('function');
    // Dev login signs in anyone as anyone, so it is refused next to any real issuer (issue 10).
    expect(() => createBroker({ ...options, issuers: [options.issuers![0]!], devLogin: true })).toThrow(
      new TypeError(
        'options.devLogin cannot be combined with options.issuers: dev login signs in anyone as anyone, ' +
          'so it would reach real users; run a separate local broker for development',
      ),
    );
  });

  it('with {iss}, the same sub at two issuers gets two prefixes that do not nest', () => {
    const rules = compileGrants([{ bucket: 'uploads', scopes: [{ prefix: 'users/{iss}/{sub}/', access: ['read'] }] }]);
    const pa = resolveGrant(rules, { iss: 'https://a.test/', sub: 'alice' }, undefined).scopes[0]!.prefix;
    const pb = resolveGrant(rules, { iss: 'https://a.test', sub: 'alice' }, undefined).scopes[0]!.prefix;
    expect(pa).toBe('users/https%3A%2F%2Fa.test%2F/alice/');
    expect(pb).toBe('users/https%3A%2F%2Fa.test/alice/');
    expect(pa.startsWith(pb) || pb.startsWith(pa)).toBe(false);
  });
});
