// Amplify's key layout as a Keyhole grant: own private/ and protected/ prefixes, read of every
// protected/ prefix, and public/.
import { stack } from '../helpers/stack.js';
import type { GrantRule } from '../../server/index.js';

export function amplifyGrant(bucket = stack().bucket): GrantRule {
  return {
    bucket,
    scopes: [
      { prefix: 'private/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
      { prefix: 'protected/{identityId}/', access: ['read', 'write', 'list', 'delete'] },
      { prefix: 'protected/', access: ['read', 'list'] },
      { prefix: 'public/', access: ['read', 'write', 'list', 'delete'] },
    ],
  };
}
