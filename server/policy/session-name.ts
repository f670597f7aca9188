import { createHash } from 'node:crypto';

// STS: RoleSessionName and SourceIdentity are 2-64 chars of [\w+=,.@-].
const INVALID = /[^\w+=,.@-]/g;
const READABLE_MAX = 64 - 'kh-'.length - 1 - 12;

/**
 * A RoleSessionName (also used as SourceIdentity) for a subject: `kh-<readable>-<hash>`.
 * The readable part helps a human reading CloudTrail or the audit log; the 12-char hash of the
 * full subject (and its issuer, when given) keeps two subjects apart even when their readable parts
 * collide, and "alice" at one issuer apart from "alice" at another.
 */
export function sessionNameFor(subject: string, issuer?: string): string {
  const readable = subject.replace(INVALID, '_').slice(0, READABLE_MAX);
  const hashed = issuer === undefined ? subject : `${issuer}\u0000${subject}`;
  const hash = createHash('sha256').update(hashed, 'utf8').digest('base64url').slice(0, 12);
  // base64url may contain '-' and '_', both allowed; nothing else is emitted.
  return `kh-${readable}-${hash}`;
}
