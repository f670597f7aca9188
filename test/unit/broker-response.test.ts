// client/broker-response.ts on its own: an answer with no body is told apart from one that is not
// JSON, whitespace included. No broker, no RGW.
import { describe, expect, it } from 'vitest';
import { parseCredentialsResponse } from '../../client/broker-response.js';
import { InvalidResponseError } from '../../client/errors.js';

const refusal = (text: string) => {
  try {
    parseCredentialsResponse(text, 200, 'https://broker.test/v1/credentials');
  } catch (e) {
    return e as InvalidResponseError;
  }
  throw new Error('expected a refusal');
};

describe('parseCredentialsResponse: bodies that are not a response at all', () => {
  it.each(['', ' ', '\n', ' \r\n\t '])('%j (nothing but whitespace) is "the body is empty"', (text) => {
    const err = refusal(text);
    expect(err).toBeInstanceOf(InvalidResponseError);
    expect(err.code).toBe('invalid_response');
    expect(err.status).toBe(200);
    expect(err.problems).toStrictEqual(['the body is empty']);
  });

  it.each(['<html>', ' x ', '{'])('%j is "the body is not JSON"', (text) => {
    expect(refusal(text).problems).toStrictEqual(['the body is not JSON']);
  });
});
