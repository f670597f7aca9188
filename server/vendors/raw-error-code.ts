import type { DeserializeHandler, DeserializeHandlerArguments, Pluggable } from '@smithy/types';

// RGW answers STS errors in a body shape the SDK's awsQuery parser does not read, so they
// reach callers as "UnknownError" and the real code is lost. This plugin sits just inside the
// deserializer, buffers the body of a failed response (bounded), tags the response object with
// it, and hands the deserializer the same bytes. `rawErrorCode` then reads <Code> from it.
const RAW_BODY = Symbol('keyhole.rawErrorBody');
const MAX_BODY = 16 * 1024;

interface ResponseLike {
  statusCode?: number;
  body?: unknown;
  [RAW_BODY]?: string;
}

async function collect(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    }
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** SDK plugin: keep the raw body of error responses so `rawErrorCode` can read it. */
export const keepRawErrorBody: Pluggable<any, any> = {
  applyToStack(stack) {
    stack.addRelativeTo(
      (next: DeserializeHandler<any, any>) => async (args: DeserializeHandlerArguments<any>) => {
        const result = await next(args);
        const response = result.response as ResponseLike;
        if (typeof response?.statusCode === 'number' && response.statusCode >= 300) {
          const bytes = await collect(response.body);
          response.body = bytes;
          response[RAW_BODY] = new TextDecoder().decode(bytes.subarray(0, MAX_BODY));
        }
        return result;
      },
      {
        relation: 'after',
        toMiddleware: 'deserializerMiddleware',
        name: 'keyholeKeepRawErrorBody',
      },
    );
  },
};

/** True when no service answered `err`: no HTTP status and no service fault (`$fault`). */
export function unanswered(err: unknown): boolean {
  const e = err as { $fault?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return !e || typeof e !== 'object' || (e.$metadata?.httpStatusCode === undefined && typeof e.$fault !== 'string');
}

/**
 * The upstream error code: the SDK's own when it parsed one, otherwise `<Code>` from the raw body.
 * Returns undefined when neither is known.
 */
export function rawErrorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as {
    name?: unknown;
    $response?: ResponseLike;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const raw = e.$response?.[RAW_BODY];
  const fromBody = raw ? /<Code>([^<]{1,128})<\/Code>/.exec(raw)?.[1] : undefined;
  if (fromBody) return fromBody;
  // The SDK names service errors (which carry $fault) after their code; the name of an error
  // with no service answer, such as a refused connection, is just a JavaScript error class.
  if (!unanswered(err) && typeof e.name === 'string' && !['Unknown', 'UnknownError', 'Error'].includes(e.name)) {
    return e.name;
  }
  return undefined;
}

// Long runs of key-like characters (access keys, secrets, tokens, signatures) are never echoed.
const SECRET_LIKE = /[A-Za-z0-9+/=_-]{32,}/g;
const MAX_CAUSE = 200;

/**
 * What went wrong, for an upstream failure with no service error code (the SDK could not even send
 * the request): the error's first message line, such as "Could not load credentials from any
 * providers", with anything that looks like a key or token redacted and at most 200 characters.
 * Undefined when the error has no message.
 */
export function describeCause(err: unknown): string | undefined {
  const message =
    err instanceof Error || (err && typeof err === 'object') ? (err as { message?: unknown }).message : err;
  if (typeof message !== 'string') return undefined;
  const line = message
    .split('\n')[0]!
    .replace(SECRET_LIKE, '[redacted]')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .trim();
  if (line === '') return undefined;
  return line.length > MAX_CAUSE ? `${line.slice(0, MAX_CAUSE - 1)}…` : line;
}
