import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { BadRequestError, brokerError } from '../errors.js';
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

/**
 * The broker's JSON body parser: at most `maxBodyBytes`, objects and arrays only. It parses
 * whatever the content type says; a route that cares checks the type first (see
 * {@link readOptionalJsonBody}).
 */
export function jsonBody(maxBodyBytes: number): RequestHandler {
  return express.json({ limit: maxBodyBytes, strict: true, type: () => true });
}

/**
 * Parses the request's JSON body into `req.body`, if it has one: a body is announced by a
 * Content-Length above 0 or by Transfer-Encoding. Throws 415 `unsupported_media_type` for a body
 * that is not `application/json`, and body-parser's own errors as they are (mapped by the error
 * handler). Run after authentication, so an anonymous caller never gets its body read.
 */
export async function readOptionalJsonBody(req: Request, res: Response, json: RequestHandler): Promise<void> {
  const length = Number(req.get('content-length') ?? 0);
  if (!(length > 0 || req.get('transfer-encoding'))) return;
  if (!req.is('application/json')) {
    throw brokerError('unsupported_media_type', 'the request body must be application/json');
  }
  await new Promise<void>((resolve, reject) => json(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}
