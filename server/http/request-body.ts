import { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { ALL_ACCESS, type Access } from '../policy/access.js';

const credentialsBody = z.strictObject({
  access: z
    .array(z.enum(ALL_ACCESS as [Access, ...Access[]]))
    .min(1)
    .max(ALL_ACCESS.length * 2)
    .optional(),
});

/** Parses the optional body of POST /v1/credentials. Throws BadRequestError('invalid_body'). */
export function parseCredentialsBody(body: unknown): { access?: Access[] } {
  if (body === undefined || body === null) return {};
  const parsed = credentialsBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw new BadRequestError('invalid_body', `${where}: ${issue.message}`);
  }
  return parsed.data.access ? { access: parsed.data.access } : {};
}
