import type { Pluggable } from '@smithy/types';
import { StorageError } from './errors.js';

/**
 * ACLs that grant nobody anything beyond the bucket owner. Objects written with Keyhole
 * credentials are private already, so asking for these changes nothing, and the header is dropped
 * (the broker's session policy denies every request that carries an ACL header, whatever its value).
 */
const NO_OP_ACLS = new Set(['private', 'bucket-owner-full-control']);
const GRANT_PARAMS = ['GrantRead', 'GrantReadACP', 'GrantWrite', 'GrantWriteACP', 'GrantFullControl'] as const;

/**
 * Checks a command's ACL parameters before it is signed. Why here: S3 answers a denied ACL header
 * with a bare 403 (RGW even says "UnknownError"), which tells the developer nothing.
 * Returns the input to send, or throws StorageError `acl_not_allowed`.
 */
export function checkAclInput(commandName: string, input: Record<string, unknown>): Record<string, unknown> {
  const asked: string[] = [];
  const acl = input['ACL'];
  if (acl !== undefined && !(typeof acl === 'string' && NO_OP_ACLS.has(acl))) asked.push(`ACL: ${String(acl)}`);
  for (const p of GRANT_PARAMS) if (input[p] !== undefined) asked.push(p);
  if (asked.length > 0) {
    throw new StorageError(
      'acl_not_allowed',
      `${commandName} with ${asked.join(', ')} refused: Keyhole credentials cannot set object ACLs or grants, ` +
        'so an object can never be made public or shared by its uploader. Remove the parameter; to share a file, ' +
        'grant the reader access to its prefix on the broker (KEYHOLE_GRANTS).',
      undefined,
      undefined,
    );
  }
  if (acl === undefined) return input;
  const { ACL: _dropped, ...rest } = input;
  return rest;
}

/** SDK plugin applying {@link checkAclInput} to every command of the client it is added to. */
export const aclGuard: Pluggable<any, any> = {
  applyToStack(stack) {
    stack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const checked = checkAclInput(String(context.commandName ?? 'request'), input);
        return next(checked === input ? args : { ...args, input: checked });
      },
      { step: 'initialize', name: 'keyholeAclGuard', priority: 'high' },
    );
  },
};
