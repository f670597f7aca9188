// One handler for every way an upload is reported complete (today: the sync confirm route): HEAD,
// the scope's rules, one remembered outcome per object version, and one event per outcome.
import { createHash } from 'node:crypto';
import type { UploadEvent, UploadVerdict } from '../../client/protocol/uploads.js';
import type { Logger } from '../logger.js';
import { enforceRules } from './enforce.js';
import { headObject, type ObjectHead } from './inspect.js';
import type { UploadsSettings } from './options.js';
import type { CompiledUploadRules } from './rules.js';

/** One upload to judge: where it is, whose it is, and the rules of the scope it lies in. */
export interface CompletionTarget {
  readonly bucket: string;
  /** The full S3 key. */
  readonly key: string;
  /** The key as the caller named it (relative to its prefix): the verdict's `key`. */
  readonly relativeKey: string;
  /** The caller's prefix the key lies in; the quota is counted under it. */
  readonly scopePrefix: string;
  readonly rules: CompiledUploadRules | undefined;
  /** The caller's `sub`. */
  readonly subject: string;
}

/** An outcome to deliver: the event, and an id that is the same for the same object version. */
export interface UploadOutcome {
  /** Stable per bucket, key, object version and status: a receiver de-duplicates on it. */
  readonly id: string;
  readonly event: UploadEvent;
}

interface Remembered {
  readonly version: string;
  readonly verdict: UploadVerdict;
}

/** What identifies one object version: its version id, else its ETag and modification time. */
function versionOf(head: ObjectHead): string {
  return head.versionId ?? `${head.etag}@${head.lastModified?.toISOString() ?? ''}`;
}

/**
 * Judges completed uploads. Concurrent calls for one key share one check; a call for an object
 * version already judged answers the remembered verdict without a new event; so does a call for a
 * rejected (so removed) object while its verdict is remembered. Memory is bounded by
 * `settings.rememberOutcomes` (oldest forgotten first), per process.
 */
export class UploadCompleter {
  readonly #settings: UploadsSettings;
  readonly #logger: Logger;
  readonly #deliver: (outcome: UploadOutcome) => void;
  readonly #remembered = new Map<string, Remembered>();
  readonly #inFlight = new Map<string, Promise<UploadVerdict | undefined>>();

  constructor(settings: UploadsSettings, logger: Logger, deliver: (outcome: UploadOutcome) => void) {
    this.#settings = settings;
    this.#logger = logger;
    this.#deliver = deliver;
  }

  /** The verdict on the object, or undefined when there is no such object (and no remembered rejection). */
  complete(target: CompletionTarget): Promise<UploadVerdict | undefined> {
    const id = `${target.bucket}\n${target.key}`;
    const running = this.#inFlight.get(id);
    if (running) return running;
    const started = this.#judge(id, target).finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, started);
    return started;
  }

  async #judge(id: string, target: CompletionTarget): Promise<UploadVerdict | undefined> {
    const { s3 } = this.#settings;
    const head = await headObject(s3, target.bucket, target.key);
    const remembered = this.#remembered.get(id);
    if (!head) return remembered?.verdict.status === 'rejected' ? remembered.verdict : undefined;
    const version = versionOf(head);
    if (remembered?.version === version) return remembered.verdict;
    const enforced = await enforceRules(
      { ...this.#settings, logger: this.#logger },
      { bucket: target.bucket, key: target.key, scopePrefix: target.scopePrefix },
      target.rules,
      head,
    );
    const contentType = enforced.contentType ?? 'application/octet-stream';
    const { reason } = enforced;
    const rules = target.rules;
    const limit =
      reason === 'too_large' ? rules?.maxBytes : reason === 'quota_exceeded' ? rules?.quotaBytes : undefined;
    const allowed = reason === 'type_not_allowed' || reason === 'type_mismatch' ? rules?.contentTypes : undefined;
    const verdict: UploadVerdict = {
      status: reason ? 'rejected' : 'accepted',
      ...(reason ? { reason } : {}),
      key: target.relativeKey,
      size: head.size,
      contentType,
      etag: head.etag,
      // What the words need ("larger than 10 MiB", "not an image"): the rule the object broke.
      ...(limit !== undefined ? { limit } : {}),
      ...(allowed !== undefined ? { allowed: [...allowed] } : {}),
    };
    this.#remember(id, { version, verdict });
    this.#logger.info({
      event: 'uploads.completed',
      sub: target.subject,
      bucket: target.bucket,
      key: target.key,
      status: verdict.status,
      reason: enforced.reason,
      size: head.size,
      contentType,
      removal: enforced.removal,
    });
    const event: UploadEvent = {
      type: verdict.status === 'accepted' ? 'upload.accepted' : 'upload.rejected',
      timestamp: new Date().toISOString(),
      data: {
        bucket: target.bucket,
        key: target.key,
        subject: target.subject,
        size: head.size,
        contentType,
        etag: head.etag,
        reason: enforced.reason ?? null,
      },
    };
    const digest = createHash('sha256').update(`${id}\n${version}\n${event.type}`).digest('hex');
    this.#deliver({ id: `upl_${digest.slice(0, 32)}`, event });
    return verdict;
  }

  #remember(id: string, entry: Remembered): void {
    this.#remembered.delete(id);
    this.#remembered.set(id, entry);
    if (this.#remembered.size > this.#settings.rememberOutcomes) {
      this.#remembered.delete(this.#remembered.keys().next().value!);
    }
  }
}
