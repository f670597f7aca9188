import { describe, expect, it } from 'vitest';
import { parsePrefixTemplate, renderPrefix } from '../../server/policy/prefix-template.js';

// Templates are parsed inside the tests, not in the describe body: code run while tests are being
// collected makes every mutant it reaches "static" for StrykerJS, which then runs all related tests
// for each of them instead of the few that cover it.
describe('renderPrefix with a vendor identityId', () => {
  it.each([
    ['an STS identityId (already encoded) is used once, not re-encoded', 'auth0%7Cabc', 'private/auth0%7Cabc/'],
    ['a Cognito region:uuid is encoded like a claim', 'us-east-1:0b3c', 'private/us-east-1%3A0b3c/'],
    ['"." is never used verbatim', '.', 'private/%2E/'],
    ['a wildcard is never used verbatim', 'a*', 'private/a%2A/'],
  ])('%s', (_l, identityId, prefix) => {
    const t = parsePrefixTemplate('private/{identityId}/');
    expect(renderPrefix(t, { identityId: 'ignored-claim' }, { identityId })).toBe(prefix);
  });
  it('claims are always encoded, even when they look encoded', () => {
    expect(renderPrefix(parsePrefixTemplate('users/{sub}/'), { sub: 'a%7Cb' })).toBe('users/a%257Cb/');
  });
});
