// The broker's verdict on an upload, in words, for people: the web app and the `keyhole` command say
// the same thing ("rejected: larger than 10 MiB", "rejected: not an image"). No DOM, no Node.
import { formatBytes } from './format.js';
import type { RejectReason } from './protocol/uploads.js';

/** What the words are made of: the verdict's status and reason, and the rule's limit or patterns when known. */
export interface VerdictFacts {
  readonly status: 'accepted' | 'rejected';
  readonly reason?: RejectReason | null | undefined;
  /** Bytes: the scope's `maxBytes` (too_large) or `quotaBytes` (quota_exceeded). */
  readonly limit?: number | undefined;
  /** The scope's `contentTypes` (type_not_allowed, type_mismatch). */
  readonly allowed?: readonly string[] | undefined;
}

/** 10485760 -> "10 MiB", 1536 -> "1.5 KiB", 1024 -> "1 KiB": a limit reads as it was set. */
export function sizeInWords(bytes: number): string {
  return formatBytes(bytes).replace(/\.0 /, ' ');
}

const KINDS: Readonly<Record<string, string>> = {
  image: 'an image',
  video: 'a video',
  audio: 'an audio file',
  text: 'a text file',
  font: 'a font',
};

/** "an image" when every pattern is of one major type that has a name (`image/*`, `image/png`). */
function kindOf(allowed: readonly string[] | undefined): string | undefined {
  const majors = new Set((allowed ?? []).map((p) => p.split('/')[0]!));
  return majors.size === 1 ? KINDS[[...majors][0]!] : undefined;
}

/** The reason alone: "larger than 10 MiB", "not an image", "over your storage quota of 100 MiB". */
export function reasonInWords(facts: Omit<VerdictFacts, 'status'>): string {
  const kind = kindOf(facts.allowed);
  switch (facts.reason) {
    case 'too_large':
      return facts.limit !== undefined ? `larger than ${sizeInWords(facts.limit)}` : 'too large';
    case 'quota_exceeded':
      return facts.limit !== undefined
        ? `over your storage quota of ${sizeInWords(facts.limit)}`
        : 'over your storage quota';
    case 'type_not_allowed':
      return kind ? `not ${kind}` : `not an allowed type${facts.allowed ? ` (${facts.allowed.join(', ')})` : ''}`;
    case 'type_mismatch':
      // A text file named .png and declared image/png: for the user, simply not an image.
      return kind ? `not ${kind}` : 'its content is not what its declared type says';
    default:
      return 'refused';
  }
}

/** "accepted", or "rejected: " and the reason in words. */
export function verdictInWords(facts: VerdictFacts): string {
  return facts.status === 'accepted' ? 'accepted' : `rejected: ${reasonInWords(facts)}`;
}
