// Turns zod/mini's validation issues into short sentences naming the field. zod/mini ships no
// messages (every issue says "Invalid input" unless a locale is loaded, which would cost the
// browser bundle), so the few issue kinds a Keyhole schema can raise are worded here.
import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

/** `credentials.expiration`, `access[1]`, `scopes[0].prefix`; empty for the document itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

const ARTICLE: Readonly<Record<string, string>> = {
  object: 'a JSON object',
  array: 'an array',
  string: 'a string',
  boolean: 'true or false',
  number: 'a number',
};

const FORMAT: Readonly<Record<string, string>> = {
  datetime: 'an ISO 8601 date-time in UTC, such as "2030-01-01T00:00:00.000Z"',
  url: 'an http(s) URL',
};

// Only the issue's own metadata is quoted, never the offending value: a hostile answer must not
// get its text into an error message that apps show to their users.
function rule(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${ARTICLE[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') {
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters long`;
      }
      if (issue.origin === 'array') {
        return Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must have at least ${issue.minimum} items when present`;
      }
      return `must be at least ${issue.minimum}`;
    case 'invalid_format':
      if (issue.format === 'ends_with' && 'suffix' in issue) return `must end with ${JSON.stringify(issue.suffix)}`;
      if (issue.format === 'starts_with' && 'prefix' in issue) return `must start with ${JSON.stringify(issue.prefix)}`;
      return `must be ${FORMAT[issue.format] ?? `a valid ${issue.format}`}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'custom':
      return issue.message;
    default:
      return 'is not valid';
  }
}

/**
 * One sentence per issue, naming the field: `prefix must end with "/"`, `bucket is missing`,
 * `access[1] must be one of "read", "write", "list", "delete"`. `document` is the value that was
 * validated, used only to tell a missing field from a wrong one.
 */
export function describeIssues(issues: readonly Issue[], document: unknown): string[] {
  return issues.map((issue) => {
    const path = issuePath(issue.path);
    if (path === '') return `the body ${rule(issue)}`;
    if (issue.code === 'invalid_type' && valueAt(document, issue.path) === undefined) return `${path} is missing`;
    return `${path} ${rule(issue)}`;
  });
}

/** Joins problems for a one-line message: the first three, then how many more. */
export function summarize(problems: readonly string[]): string {
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length - 3;
  return more > 0 ? `${shown}; and ${more} more problem${more === 1 ? '' : 's'}` : shown;
}
