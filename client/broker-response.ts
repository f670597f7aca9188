// Reads the broker's answers. Nothing in them is trusted before it has passed the protocol's
// schema: a wrong brokerUrl, a captive portal or a hostile server must not become credentials,
// a prefix or an S3 endpoint.
import { BrokerError, InvalidResponseError } from './errors.js';
import { CredentialsResponseSchema, type CredentialsResponse } from './protocol/credentials.js';
import { ErrorBodySchema, type ErrorBody } from './protocol/errors.js';
import { describeIssues, summarize } from './schema-issues.js';

/**
 * The credentials response in `text` (the body of a success answer from `endpoint`), validated.
 * Unknown fields are dropped. Throws {@link InvalidResponseError} saying what was wrong.
 */
export function parseCredentialsResponse(text: string, status: number, endpoint: string): CredentialsResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw invalidResponse(status, endpoint, [text.trim() === '' ? 'the body is empty' : 'the body is not JSON'], cause);
  }
  const parsed = CredentialsResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw invalidResponse(status, endpoint, describeIssues(parsed.error.issues, body), parsed.error);
  }
  return parsed.data;
}

function invalidResponse(status: number, endpoint: string, problems: string[], cause: unknown): InvalidResponseError {
  return new InvalidResponseError(
    status,
    problems,
    `the answer from ${endpoint} is not a Keyhole credentials response: ${summarize(problems)}; ` +
      'check that brokerUrl points to a Keyhole broker',
    { cause },
  );
}

/**
 * The {@link BrokerError} for an error answer: the broker's own `error.code` and `message` when the
 * body is a Keyhole error body, else `http_<status>` and a generic message (a proxy's HTML page).
 */
export async function brokerErrorFrom(res: Response): Promise<BrokerError> {
  let body: ErrorBody | undefined;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(await res.text()));
    if (parsed.success) body = parsed.data;
  } catch {
    // Not JSON, or the body could not be read: keep the status only.
  }
  const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
  return new BrokerError(
    res.status,
    body?.error.code ?? `http_${res.status}`,
    body?.error.message ?? `the broker answered HTTP ${res.status}`,
    Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {},
  );
}
