import type { Grant } from '../credentials.js';
import type { Access } from '../protocol/access.js';
import type { KeyholeAmplifyProvider } from './provider.js';

/** Amplify Storage functions {@link withGrantErrors} knows; pass any of them. */
export const AMPLIFY_STORAGE_FUNCTIONS = [
  'uploadData',
  'downloadData',
  'getProperties',
  'getUrl',
  'list',
  'remove',
  'copy',
] as const;
type FunctionName = (typeof AMPLIFY_STORAGE_FUNCTIONS)[number];

/** Amplify uploads objects above 5 MiB in parts, then checks the size with HeadObject (needs read). */
const MULTIPART_ABOVE = 5 * 1024 * 1024;

type PathInput = string | ((arg: { identityId?: string }) => string);
interface AnyInput {
  path?: PathInput;
  key?: string;
  data?: unknown;
  source?: { path?: PathInput; key?: string };
  destination?: { path?: PathInput; key?: string };
  options?: { accessLevel?: string; targetIdentityId?: string; checksumAlgorithm?: string };
}

/** One S3 location an operation touches and the access it needs there. */
interface Need {
  readonly path: string;
  readonly access: readonly Access[];
  readonly why?: string;
}

function byteLength(data: unknown): number | undefined {
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (data && typeof data === 'object' && typeof (data as { size?: unknown }).size === 'number') {
    return (data as { size: number }).size;
  }
  return undefined;
}

/** The key or prefix of `input` (path-based or the older key + accessLevel form). */
function resolvePath(where: { path?: PathInput; key?: string } | undefined, input: AnyInput, identityId: string) {
  if (!where) return undefined;
  if (typeof where.path === 'string') return where.path;
  if (typeof where.path === 'function') return where.path({ identityId });
  if (typeof where.key !== 'string') return undefined;
  const level = input.options?.accessLevel ?? 'guest';
  if (level === 'private') return `private/${identityId}/${where.key}`;
  if (level === 'protected') return `protected/${input.options?.targetIdentityId ?? identityId}/${where.key}`;
  return `public/${where.key}`;
}

function needs(name: FunctionName, input: AnyInput, identityId: string): Need[] {
  const path = resolvePath(input, input, identityId);
  const one = (access: Access[], why?: string): Need[] =>
    path === undefined ? [] : [{ path, access, ...(why ? { why } : {}) }];
  switch (name) {
    case 'uploadData': {
      const size = byteLength(input.data);
      if (size !== undefined && size > MULTIPART_ABOVE && input.options?.checksumAlgorithm !== 'crc-32') {
        return one(
          ['write', 'read'],
          "an upload above 5 MiB is multipart, and Amplify checks the object's size with HeadObject",
        );
      }
      return one(['write']);
    }
    case 'downloadData':
    case 'getProperties':
    case 'getUrl':
      return one(['read']);
    case 'list':
      return one(['list']);
    case 'remove':
      return path?.endsWith('/') ? one(['list', 'delete']) : one(['delete']);
    case 'copy': {
      const source = resolvePath(input.source, input, identityId);
      const destination = resolvePath(input.destination, input, identityId);
      return [
        ...(source === undefined ? [] : [{ path: source, access: ['read'] as Access[] }]),
        ...(destination === undefined ? [] : [{ path: destination, access: ['write'] as Access[] }]),
      ];
    }
  }
}

/** Every scope of the grant as `prefix (access, ...)`. */
function describeGrant(grant: Grant): string {
  const scopes = grant.scopes ?? [{ prefix: grant.prefix, access: grant.access }];
  return scopes.map((s) => `${s.prefix} (${s.access.join(', ')})`).join('; ');
}

/** What the grant allows on `path`: the access of every scope whose prefix contains it. */
function grantedOn(grant: Grant, path: string): Set<Access> {
  const scopes = grant.scopes ?? [{ prefix: grant.prefix, access: grant.access }];
  return new Set(scopes.filter((s) => path.startsWith(s.prefix)).flatMap((s) => s.access));
}

function isAccessDenied(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  // Amplify's StorageError has `metadata`, the AWS SDK's errors `$metadata`.
  const e = err as {
    name?: unknown;
    metadata?: { httpStatusCode?: unknown };
    $metadata?: { httpStatusCode?: unknown };
  };
  return e.name === 'AccessDenied' || e.metadata?.httpStatusCode === 403 || e.$metadata?.httpStatusCode === 403;
}

/**
 * Rewrites Amplify's bare `AccessDenied` (S3's 403) into one that names the access the call needed
 * and what the user's Keyhole grant allows there, when the grant is what refused it. Other errors,
 * and denials the grant does not explain, are returned unchanged. The error stays Amplify's own
 * (`name` is still `AccessDenied`); its `message` and `recoverySuggestion` change.
 */
export async function explainAccessDenied(
  provider: KeyholeAmplifyProvider,
  name: FunctionName,
  input: unknown,
  err: unknown,
): Promise<unknown> {
  if (!isAccessDenied(err)) return err;
  let grant: Grant;
  try {
    grant = await provider.grant();
  } catch {
    return err;
  }
  const missing = needs(name, (input ?? {}) as AnyInput, grant.identityId)
    .map((need) => {
      const granted = grantedOn(grant, need.path);
      return { ...need, granted, lacking: need.access.filter((a) => !granted.has(a)) };
    })
    .filter((n) => n.lacking.length > 0);
  if (missing.length === 0) return err;
  const parts = missing.map((n) => {
    const has = n.granted.size === 0 ? 'no access there' : `only ${[...n.granted].join(', ')} there`;
    return `${name} "${n.path}" needs ${n.access.join(' and ')}${n.why ? ` (${n.why})` : ''}; your Keyhole grant gives ${has}`;
  });
  const message = `access denied: ${parts.join('; ')}. The grant allows: ${describeGrant(grant)}`;
  const suggestion =
    "Give the broker a grant for the paths your app uses (KEYHOLE_GRANTS; for Amplify's private/{identityId}/, " +
    'protected/{identityId}/ and public/ layout see "Grant Amplify\'s key layout" in client/amplify/README.md), or use paths inside the grant.';
  const e = err as { message?: string; recoverySuggestion?: string };
  try {
    e.message = message;
    e.recoverySuggestion = suggestion;
  } catch {
    // A frozen error: leave it as it is.
  }
  return err;
}

/**
 * Wraps Amplify Storage functions so that an `AccessDenied` caused by the user's Keyhole grant names
 * the access that was missing, the path, and what the grant allows (Amplify's own error is a bare
 * "Access Denied"). Takes the functions from `aws-amplify/storage` and returns them with the same
 * types; functions it does not know are returned as they are.
 *
 * @example
 * ```ts
 * import * as amplifyStorage from 'aws-amplify/storage'
 * const { uploadData, downloadData, list, remove } = withGrantErrors(credentialsProvider, amplifyStorage)
 * ```
 */
export function withGrantErrors<T extends object>(provider: KeyholeAmplifyProvider, storage: T): T {
  if (!provider || typeof provider.grant !== 'function') {
    throw new TypeError('provider must come from createAmplifyCredentialsProvider(...)');
  }
  if (!storage || typeof storage !== 'object') {
    throw new TypeError('storage must be an object of Amplify Storage functions (import * from "aws-amplify/storage")');
  }
  const wrapped: Record<string, unknown> = { ...(storage as Record<string, unknown>) };
  for (const name of AMPLIFY_STORAGE_FUNCTIONS) {
    const fn = (storage as Record<string, unknown>)[name];
    if (typeof fn !== 'function') continue;
    const explain = (input: unknown) => async (err: unknown) => {
      throw await explainAccessDenied(provider, name, input, err);
    };
    wrapped[name] = (input: unknown, ...rest: unknown[]) => {
      const out = (fn as (...args: unknown[]) => unknown)(input, ...rest);
      if (out instanceof Promise) return out.catch(explain(input));
      // uploadData and downloadData return a task whose `result` is the promise; the task's
      // methods (cancel, pause, resume) and live `state` stay the task's own.
      if (out && typeof out === 'object' && (out as { result?: unknown }).result instanceof Promise) {
        const result = (out as { result: Promise<unknown> }).result.catch(explain(input));
        return new Proxy(out, {
          get: (target, prop) => (prop === 'result' ? result : Reflect.get(target, prop, target)),
        });
      }
      return out;
    };
  }
  return wrapped as T;
}
