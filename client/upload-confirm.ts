// After the upload: the optional check before sending (when the app knows its grant's rules), and
// the confirm call that asks the broker for its verdict (`storage.upload(…, { confirm: true })`).
import type { BrokerSettings } from './credentials-options.js';
import { brokerErrorFrom } from './broker-response.js';
import { BrokerError, InvalidResponseError, KeyholeClientError } from './errors.js';
import {
  UPLOADS_COMPLETE_PATH,
  UploadVerdictSchema,
  type RejectReason,
  type UploadVerdict,
} from './protocol/uploads.js';
import { describeIssues, summarize } from './schema-issues.js';

export type { RejectReason, UploadVerdict } from './protocol/uploads.js';

/**
 * The rules of your grant's scope, as far as the client can check them before sending: a file that
 * breaks them is refused at once, without uploading. The broker's check after the upload is the one
 * that counts (it reads the real type from the bytes; this check only sees the declared type).
 */
export interface UploadExpectations {
  readonly maxBytes?: number;
  /** MIME patterns such as `image/*`, matched against the declared type (`contentType`, or a File's type). */
  readonly contentTypes?: readonly string[];
}

/**
 * An upload refused for breaking a rule: before sending (by {@link UploadExpectations}), with nothing
 * sent. The broker's own rejections are not errors: they are a verdict with `status: 'rejected'`.
 */
export class UploadRejectedError extends KeyholeClientError {
  declare readonly code: 'upload_rejected';
  /** Which rule: `too_large` or `type_not_allowed`. */
  readonly reason: RejectReason;

  constructor(reason: RejectReason, message: string) {
    super('upload_rejected', message);
    this.reason = reason;
  }
}

function declaredType(body: unknown, contentType: string | undefined): string | undefined {
  const type = contentType ?? (typeof Blob !== 'undefined' && body instanceof Blob ? body.type : undefined);
  return type?.split(';')[0]?.trim().toLowerCase() || undefined;
}

function sizeOf(body: unknown): number | undefined {
  if (body instanceof Uint8Array) return body.byteLength;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (typeof body === 'string') return new TextEncoder().encode(body).byteLength;
  return undefined;
}

/** Throws {@link UploadRejectedError} when the body's known size or declared type breaks `rules`. */
export function precheckUpload(
  key: string,
  body: unknown,
  contentType: string | undefined,
  rules: UploadExpectations,
): void {
  const size = sizeOf(body);
  if (rules.maxBytes !== undefined && size !== undefined && size > rules.maxBytes) {
    throw new UploadRejectedError('too_large', `"${key}" is ${size} bytes, more than the ${rules.maxBytes} allowed`);
  }
  if (rules.contentTypes !== undefined) {
    const type = declaredType(body, contentType);
    const allowed = rules.contentTypes.map((p) => p.toLowerCase());
    const ok = type !== undefined && allowed.some((p) => p === type || p === `${type.split('/')[0]}/*`);
    if (!ok) {
      throw new UploadRejectedError(
        'type_not_allowed',
        `"${key}" is ${type ?? 'of no declared type'}, not one of ${allowed.join(', ')}`,
      );
    }
  }
}

/**
 * Asks the broker for its verdict on an uploaded object (`POST /v1/uploads/complete`), with a fresh
 * token once after a 401. No other retry: the broker answers a repeated confirm with the same
 * verdict, so the caller may retry. Throws {@link BrokerError} (`object_not_found`,
 * `key_not_granted`...), `broker_unreachable`, or {@link InvalidResponseError}.
 */
export async function confirmUpload(
  settings: Pick<BrokerSettings, 'endpoint' | 'getToken' | 'fetch'>,
  key: string,
  prefix?: string,
): Promise<UploadVerdict> {
  const endpoint = new URL(`../${UPLOADS_COMPLETE_PATH}`, settings.endpoint).href;
  for (let attempt = 0; ; attempt++) {
    let token: unknown;
    try {
      token = await settings.getToken({ forceRefresh: attempt > 0 });
    } catch (cause) {
      throw new KeyholeClientError('token_unavailable', 'getToken() failed', { cause });
    }
    let res: Response;
    try {
      res = await settings.fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${String(token)}`, 'content-type': 'application/json' },
        body: JSON.stringify(prefix === undefined ? { key } : { key, prefix }),
        credentials: 'omit',
      });
    } catch (cause) {
      throw new BrokerError(0, 'broker_unreachable', `the Keyhole broker at ${endpoint} could not be reached`, {
        cause,
      });
    }
    if (res.status === 401 && attempt === 0) continue;
    if (!res.ok) throw await brokerErrorFrom(res);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new InvalidResponseError(res.status, ['the body is not JSON'], `the answer from ${endpoint} is not JSON`, {
        cause,
      });
    }
    const parsed = UploadVerdictSchema.safeParse(body);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error.issues, body);
      throw new InvalidResponseError(
        res.status,
        problems,
        `the answer from ${endpoint} is not an upload verdict: ${summarize(problems)}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}
