// The outgoing upload webhook: signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
// `webhook-signature`), delivered at least once from a bounded in-process queue with exponential
// backoff. Enqueueing never waits: a slow or absent receiver never delays a confirm.
import { Webhook } from 'standardwebhooks';
import type { Logger } from '../logger.js';
import type { UploadOutcome } from '../uploads/complete.js';

/** Where and how upload events are POSTed. */
export interface WebhookOptions {
  /** The receiver: https, or http on loopback. */
  readonly url: string;
  /** `whsec_` + base64 of 24 to 64 random bytes (`openssl rand -base64 32`), shared with the receiver. */
  readonly secret: string;
  /** Events waiting or retrying at most; a new event beyond it is dropped and logged. Default 1000. */
  readonly maxQueue?: number;
  /** Attempts per event before it is given up and logged. Default 10. */
  readonly maxAttempts?: number;
  /** Wait after the first failure, doubled after each (±20 % jitter). Default 1000 ms. */
  readonly initialDelayMs?: number;
  /** Longest wait between two attempts. Default 300000 ms (5 min). */
  readonly maxDelayMs?: number;
  /** Deadline of one attempt. Default 10000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in flight at once. Default 4. */
  readonly concurrency?: number;
}

interface Pending {
  readonly outcome: UploadOutcome;
  readonly body: string;
  attempts: number;
  dueAt: number;
  sending: boolean;
}

/** What the sender has done so far. */
export interface WebhookStats {
  readonly queued: number;
  readonly delivered: number;
  readonly retried: number;
  readonly dropped: number;
  readonly failed: number;
}

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function int(value: number | undefined, fallback: number, name: string, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  return v;
}

/** Checks a webhook URL: https, or http to a loopback host. Returns the reason it is refused, or undefined. */
export function webhookUrlProblem(url: unknown): string | undefined {
  const parsed = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
    return 'must be an absolute http(s) URL';
  if (parsed.protocol === 'http:' && !LOOPBACK.has(parsed.hostname)) return 'must be https (http only on loopback)';
  if (parsed.username || parsed.password) return 'must not carry a user or password';
  return undefined;
}

/** Checks a Standard Webhooks secret. Returns the reason it is refused (never echoing it), or undefined. */
export function webhookSecretProblem(secret: unknown): string | undefined {
  const match = typeof secret === 'string' ? SECRET.exec(secret) : null;
  const bytes = match ? Buffer.from(match[1]!, 'base64').length : 0;
  if (!match || bytes < 24 || bytes > 64) return 'must be "whsec_" followed by base64 of 24 to 64 random bytes';
  return undefined;
}

/**
 * Delivers upload outcomes to one webhook. Each event is signed anew at each attempt (the
 * timestamp is the attempt's); its `webhook-id` stays the outcome's id, so a receiver de-duplicates
 * retries and repeats on it. The queue lives in this process: events still queued when it exits are lost.
 */
export class WebhookSender {
  readonly #url: string;
  readonly #signer: Webhook;
  readonly #logger: Logger;
  readonly #maxQueue: number;
  readonly #maxAttempts: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #queue: Pending[] = [];
  #active = 0;
  #timer: NodeJS.Timeout | undefined;
  #idle: (() => void)[] = [];
  readonly #stats = { delivered: 0, retried: 0, dropped: 0, failed: 0 };

  /** Throws TypeError or RangeError naming the option (`at.url`, `at.secret`...). */
  constructor(options: WebhookOptions, logger: Logger, at = 'options.uploads.webhook') {
    if (!options || typeof options !== 'object') throw new TypeError(`${at} must be an object`);
    const urlProblem = webhookUrlProblem(options.url);
    if (urlProblem) throw new TypeError(`${at}.url ${urlProblem}`);
    const secretProblem = webhookSecretProblem(options.secret);
    if (secretProblem) throw new TypeError(`${at}.secret ${secretProblem}`);
    this.#url = options.url;
    this.#signer = new Webhook(options.secret);
    this.#logger = logger;
    this.#maxQueue = int(options.maxQueue, 1000, `${at}.maxQueue`, 1, 100_000);
    this.#maxAttempts = int(options.maxAttempts, 10, `${at}.maxAttempts`, 1, 100);
    this.#initialDelayMs = int(options.initialDelayMs, 1000, `${at}.initialDelayMs`, 1, 3_600_000);
    this.#maxDelayMs = int(options.maxDelayMs, 300_000, `${at}.maxDelayMs`, this.#initialDelayMs, 86_400_000);
    this.#timeoutMs = int(options.timeoutMs, 10_000, `${at}.timeoutMs`, 100, 600_000);
    this.#concurrency = int(options.concurrency, 4, `${at}.concurrency`, 1, 64);
  }

  /** Queues an outcome for delivery; false (and a log line) when the queue is full. Never waits. */
  enqueue(outcome: UploadOutcome): boolean {
    if (this.#queue.length >= this.#maxQueue) {
      this.#stats.dropped++;
      this.#logger.warn({
        event: 'events.dropped',
        id: outcome.id,
        type: outcome.event.type,
        queued: this.#queue.length,
      });
      return false;
    }
    this.#queue.push({ outcome, body: JSON.stringify(outcome.event), attempts: 0, dueAt: 0, sending: false });
    this.#pump();
    return true;
  }

  /** Counts so far, and the events waiting or in flight. */
  stats(): WebhookStats {
    return { queued: this.#queue.length, ...this.#stats };
  }

  /** Resolves once nothing is queued or in flight (for tests and graceful shutdowns). */
  idle(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops retrying: what is queued is dropped (and counted). */
  close(): void {
    clearTimeout(this.#timer);
    this.#stats.dropped += this.#queue.filter((p) => !p.sending).length;
    this.#queue.splice(0, this.#queue.length, ...this.#queue.filter((p) => p.sending));
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    for (const item of this.#queue) {
      if (this.#active >= this.#concurrency) break;
      if (item.sending || item.dueAt > now) continue;
      item.sending = true;
      this.#active++;
      void this.#attempt(item).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
    // Only when a slot is free (not on every completion of a backlog), and a loop, not Math.min(...),
    // whose spread of a large queue would exceed the engine's argument limit.
    let next = Infinity;
    if (this.#active < this.#concurrency) {
      for (const p of this.#queue) if (!p.sending && p.dueAt < next) next = p.dueAt;
    }
    if (Number.isFinite(next)) {
      this.#timer = setTimeout(() => this.#pump(), Math.max(0, next - Date.now()));
      this.#timer.unref();
    }
    if (this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #attempt(item: Pending): Promise<void> {
    item.attempts++;
    const { id } = item.outcome;
    const sentAt = new Date();
    let status: number | undefined;
    let error: string | undefined;
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.#signer.sign(id, sentAt, item.body),
        },
        body: item.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      error = String((err as Error)?.message ?? err);
    }
    item.sending = false;
    if (status !== undefined && status >= 200 && status < 300) {
      this.#remove(item);
      this.#stats.delivered++;
      this.#logger.info({ event: 'events.delivered', id, type: item.outcome.event.type, attempts: item.attempts });
      return;
    }
    if (item.attempts >= this.#maxAttempts) {
      this.#remove(item);
      this.#stats.failed++;
      this.#logger.warn({ event: 'events.failed', id, attempts: item.attempts, status, err: error });
      return;
    }
    const delay = Math.min(this.#maxDelayMs, this.#initialDelayMs * 2 ** (item.attempts - 1));
    item.dueAt = Date.now() + Math.round(delay * (0.8 + Math.random() * 0.4));
    this.#stats.retried++;
    this.#logger.info({
      event: 'events.retry',
      id,
      attempts: item.attempts,
      status,
      err: error,
      inMs: item.dueAt - Date.now(),
    });
  }

  #remove(item: Pending): void {
    const at = this.#queue.indexOf(item);
    if (at >= 0) this.#queue.splice(at, 1);
  }
}
