// `POST /v1/credentials` without Express, for the requests that make up nearly all of a broker's
// traffic: the exact path, no body or a small JSON one, no content or transfer encoding, and no
// Origin or one of the CORS origins. Express's per-request work (prototype switching, the router's
// layers, body-parser, the `cors` package) cost about half of a cached answer's CPU
// (test/bench/results/broker-profile.md); this path does only what the answer needs.
//
// It is the same route, not a second one: the same credentials service (verification, limits,
// plan, cache, audit, metrics), the same headers (recorded from the very middlewares Express runs),
// the same answer writer, the same error answers and log lines (server/http/errors.ts). Anything
// else, and any request it has any doubt about, goes to Express unchanged, where the same service
// answers it (body-parser's encodings and charsets, 413 and 415 answers, refused-origin logging,
// OPTIONS preflights, a trailing slash or a query string).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { errorAnswer, writeErrorAnswer } from '../http/errors.js';
import { parseCredentialsBody } from '../http/request-body.js';
import { applyHeaders, rawHeaders, type BrokerHeaders, type HeaderStep } from '../http/security-headers.js';
import type { Logger } from '../logger.js';
import {
  credentialsAnswer,
  type CredentialsCall,
  type CredentialsRouteOptions,
  type CredentialsService,
} from './credentials.js';

const PATH = '/v1/credentials';
// What Express's route accepts after `req.is('application/json')` and body-parser's default
// charset, in the spelling clients send; other spellings are left to Express.
const JSON_TYPE = /^application\/json(?:;\s*charset="?utf-8"?)?$/i;

/** Answers a request and returns true, or returns false without touching it (Express answers). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface FastPathOptions {
  readonly app: Express;
  readonly service: CredentialsService;
  readonly headers: BrokerHeaders;
  readonly maxBodyBytes: number;
  readonly route: Pick<CredentialsRouteOptions, 'region' | 's3Endpoint' | 'forcePathStyle'>;
  readonly logger: Logger;
}

// Express's own `req.ip` (proxy-addr with the app's compiled `trust proxy` setting), run on a
// stand-in holding what it reads: the address Express's routes would see, not a second version.
const expressIp = Object.getOwnPropertyDescriptor(express.request, 'ip')?.get;

// The security headers of each allowed origin as one flat list (their steps are remembered per
// origin, so this is worked out once per origin).
const raw = new WeakMap<readonly HeaderStep[], readonly string[]>();
function rawOf(steps: readonly HeaderStep[]): readonly string[] {
  let known = raw.get(steps);
  if (!known) raw.set(steps, (known = rawHeaders(steps)));
  return known;
}

/** The fast path of `POST /v1/credentials` for `createBroker`'s app. */
export function credentialsFastPath(options: FastPathOptions): FastPath {
  const { app, service, headers, maxBodyBytes, route, logger } = options;
  if (!expressIp) throw new Error('express.request has no `ip` getter: this Express version is not supported');
  const ipOf = (req: IncomingMessage): string | undefined =>
    expressIp.call({ app, socket: req.socket, connection: req.socket, headers: req.headers }) as string | undefined;

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return false;
    const length = h['content-length'] === undefined ? 0 : Number(h['content-length']);
    if (!Number.isSafeInteger(length) || length < 0 || length > maxBodyBytes) return false;
    if (length > 0 && !JSON_TYPE.test(h['content-type'] ?? '')) return false;
    const steps = headers.forRequest('POST', h.origin);
    if (!steps) return false;

    const requestId = randomUUID();
    const call: CredentialsCall = { requestId, ip: ipOf(req), headers: h };
    const readAccess = async () => parseCredentialsBody(length > 0 ? await readJson(req, length) : undefined).access;
    service(call, readAccess).then(
      ({ plan, credentials }) => {
        const { body, headers: own } = credentialsAnswer(plan, credentials, route);
        res.writeHead(200, ['X-Request-Id', requestId, ...rawOf(steps), ...own]).end(body);
      },
      (err: unknown) => {
        if (res.headersSent) return;
        res.setHeader('X-Request-Id', requestId);
        applyHeaders(res, steps);
        writeErrorAnswer(res, errorAnswer(err, { requestId, method: req.method, path: PATH }, logger));
      },
    );
    return true;
  };
}

/** A body-parser-shaped error, so `toKeyholeError` maps it to the same code as on Express. */
function bodyError(type: string, message: string): Error {
  return Object.assign(new Error(message), { type });
}

/**
 * Reads a JSON body of `length` bytes (at most the broker's limit: checked before) as body-parser's
 * strict JSON parser would: UTF-8 with a byte-order mark dropped, an object or an array only.
 */
function readJson(req: IncomingMessage, length: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > length)
        return done(bodyError('request.size.invalid', 'request size did not match content length'));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (received !== length)
        return done(bodyError('request.size.invalid', 'request size did not match content length'));
      let text = Buffer.concat(chunks, received).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const first = /^[\x20\x09\x0a\x0d]*(.)/s.exec(text)?.[1];
      if (first !== '{' && first !== '[') return done(bodyError('entity.parse.failed', 'not a JSON object or array'));
      try {
        done(undefined, JSON.parse(text));
      } catch (err) {
        done(Object.assign(bodyError('entity.parse.failed', 'invalid JSON'), { cause: err }));
      }
    };
    const onAborted = () => done(bodyError('request.aborted', 'request aborted'));
    const done = (err: Error | undefined, value?: unknown) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
      if (err) reject(err);
      else resolve(value);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onAborted);
  });
}
