// Turns any error into a sentence for the page. Never a stack trace.
import { BrokerError, InvalidKeyError, isNetworkError, StorageError } from 'keyhole/client';
import { SignInError, WebConfigError } from './errors.js';

/** What a message is about; the banner's `data-kind`, and whether it offers to sign in again. */
export type MessageKind = 'denied' | 'expired' | 'offline' | 'error' | 'cancelled';

/** A sentence for the page's banner. */
export interface Message {
  readonly kind: MessageKind;
  readonly text: string;
}

/**
 * Turns any error into a sentence for the banner; `context.prefix` (the user's key prefix) is named
 * when access is denied.
 */
export function describe(err: unknown, context: { prefix?: string } = {}): Message {
  if (err instanceof SignInError || err instanceof WebConfigError) return { kind: 'error', text: err.message };
  if (err instanceof BrokerError) {
    // The broker works but does not allow this page's origin: retrying or checking the connection cannot help.
    if (err.code === 'cors_blocked') return { kind: 'error', text: `Blocked by the browser (CORS): ${err.message}.` };
    if (err.status === 0) {
      return {
        kind: 'offline',
        text: 'Can\u2019t reach the Keyhole broker. Check your connection or that the server is running, then try again.',
      };
    }
    if (err.status === 401) return { kind: 'expired', text: 'Your session has expired. Please sign in again.' };
    if (err.status === 403) return { kind: 'denied', text: `Access denied by the broker: ${err.message}` };
    if (err.status === 429) {
      return {
        kind: 'error',
        text: `Too many requests. Try again in ${err.retryAfterSeconds ?? 'a few'} seconds.`,
      };
    }
    if (err.status >= 500) {
      return {
        kind: 'offline',
        text: `The broker could not issue credentials right now (${err.code}). Try again shortly.`,
      };
    }
    return { kind: 'error', text: `The broker refused the request: ${err.message}` };
  }
  if (err instanceof StorageError) {
    switch (err.code) {
      case 'access_denied': {
        // The prefix helps only when the key was outside it; "your grant does not allow write (…)" is already exact.
        const outside = / is outside your grant$/.test(err.message);
        return {
          kind: 'denied',
          text: `Access denied: ${err.message.replace(/^access denied: /, '')}${outside && context.prefix ? `. You can only use files under ${context.prefix}` : ''}.`,
        };
      }
      case 'expired_credentials':
        return { kind: 'expired', text: 'Your session has expired. Please sign in again.' };
      case 'aborted':
        return { kind: 'cancelled', text: 'Cancelled.' };
      case 'not_found':
        // "No such file "a/b.txt"." from Open by key; '"b.txt" does not exist.' from the storage object.
        return { kind: 'error', text: `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.` };
      default:
        if (isNetworkError(err)) {
          return {
            kind: 'offline',
            text: 'Can\u2019t reach the storage service. Check your connection, then try again.',
          };
        }
        return { kind: 'error', text: `Storage error: ${err.message}` };
    }
  }
  if (err instanceof InvalidKeyError) return { kind: 'error', text: `Invalid file name: ${err.message}.` };
  if (isNetworkError(err)) {
    return { kind: 'offline', text: 'The network is unreachable. Check your connection, then try again.' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'error', text: `Something went wrong: ${message.split('\n')[0]}` };
}
