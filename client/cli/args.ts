import { parseArgs } from 'node:util';
import { cliSettings, type BrokerUrlFrom } from '../../server/config/cli-env.js';
import { DEFAULT_BROKER_URL } from '../../server/config/formats.js';
import { CliError, EXIT } from './exit-codes.js';

/** Files an upload sends at once unless --concurrency says otherwise. */
export const DEFAULT_CONCURRENCY = 4;
/** The most --concurrency accepts. */
export const MAX_CONCURRENCY = 64;

export const USAGE = `Usage:
  keyhole upload <paths...> [--to KEY]   upload files, and folders with all they contain
                                         (--to a key, or a folder ending in "/")
  keyhole download <key> [-o FILE]       download a key (-o - writes to stdout)
  keyhole ls [prefix]                    list your files
  keyhole rm <key>                       delete a key
  keyhole uploads [--abort]              list unfinished uploads (--abort discards them)
  keyhole reconcile [--since 24h]        operators: judge uploads no event reported, with the
                                         broker's own settings (see keyhole reconcile --help)

Keys are relative to the prefix the broker grants you (e.g. users/alice/).
An upload stopped by Ctrl-C or a crash resumes when the same file goes to the same key again.

Options:
  --broker URL        broker base URL (env KEYHOLE_BROKER_URL; default ${DEFAULT_BROKER_URL})
  --token JWT         your bearer token (env KEYHOLE_TOKEN)
  --dev-login NAME    sign in through the broker's dev login (local development only)
  --concurrency N     upload: files sent at once, 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})
  -r, --recursive     upload: accepted for habit; folders are always uploaded recursively
  --no-resume         upload: start over; an interrupted upload is aborted, not kept
  --confirm           upload: ask the broker for its verdict on each file (its upload rules);
                      a rejected file is gone, and the command fails saying why
  --json              print one JSON document on stdout, no progress
  -q, --quiet         no progress bars
  -h, --help          show this help
  --version           print the version

Exit status:
  0 ok · 1 failed · 2 usage · 3 authentication · 4 access denied · 5 not found
  6 broker or S3 unreachable · 7 local file error · 130 interrupted (large files kept to resume)`;

export type Command =
  | {
      readonly name: 'upload';
      readonly files: readonly string[];
      readonly to: string | undefined;
      readonly concurrency: number;
      /** False with --no-resume. */
      readonly resume: boolean;
      /** --confirm: each file's verdict from POST /v1/uploads/complete. */
      readonly confirm: boolean;
    }
  | { readonly name: 'uploads'; readonly abort: boolean }
  | { readonly name: 'download'; readonly key: string; readonly output: string | undefined }
  | { readonly name: 'ls'; readonly prefix: string | undefined }
  | { readonly name: 'rm'; readonly key: string }
  | { readonly name: 'help' }
  | { readonly name: 'version' };

export type Auth = { readonly kind: 'token'; readonly token: string } | { readonly kind: 'dev'; readonly name: string };

export interface Invocation {
  readonly command: Command;
  readonly brokerUrl: string;
  /** Where the broker URL came from, for the unreachable-broker message. */
  readonly brokerUrlFrom: BrokerUrlFrom;
  readonly auth: Auth | undefined;
  readonly json: boolean;
  readonly quiet: boolean;
}

const COMMANDS = ['upload', 'download', 'ls', 'rm', 'uploads'];

/** Every option, with the placeholder a string option's value gets in USAGE. */
const OPTIONS = {
  broker: { type: 'string', value: 'URL' },
  token: { type: 'string', value: 'JWT' },
  'dev-login': { type: 'string', value: 'NAME' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  to: { type: 'string', value: 'KEY' },
  output: { type: 'string', short: 'o', value: 'FILE' },
  concurrency: { type: 'string', value: 'N' },
  recursive: { type: 'boolean', short: 'r' },
  'no-resume': { type: 'boolean' },
  confirm: { type: 'boolean' },
  abort: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string; value?: string }>;

type OptionName = keyof typeof OPTIONS;

/** The dev login broker's limit on a subject's length. */
const MAX_DEV_LOGIN = 1024;

function usage(message: string): CliError {
  return new CliError('usage', EXIT.usage, message);
}

/** Parses without refusing anything, so the caller can judge every token itself. Never throws. */
function lenientParse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
}

/**
 * True when the command line asks for `--json`, even if it is otherwise invalid: a usage error is then
 * printed as a JSON document too.
 */
export function wantsJson(argv: readonly string[]): boolean {
  return lenientParse(argv).tokens.some((t) => t.kind === 'option' && t.name === 'json');
}

/**
 * Refuses unknown options, a string option without a value (or with an option in its place: `--to
 * --json`), and a boolean option given a value, naming the option as typed. Node's own messages for
 * these are multi-line and quote unevenly.
 */
function checkOptions(tokens: ReturnType<typeof lenientParse>['tokens']): void {
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = (OPTIONS as Record<string, (typeof OPTIONS)[OptionName]>)[t.name];
    if (!spec) throw usage(`unknown option "${t.rawName}"`);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw usage(`${t.rawName} takes no value (got "${t.rawName}=${t.value}")`);
      continue;
    }
    const needs = `${t.rawName} needs a value: ${t.rawName} ${spec.value}`;
    if (t.value === undefined || t.value === '') throw usage(needs);
    // "-" alone is a value (stdout for -o); anything else starting with "-" is an option typed in its place.
    if (!t.inlineValue && t.value.length > 1 && t.value.startsWith('-')) {
      throw usage(`${needs} (got the option "${t.value}"; write ${t.rawName}=${t.value} if that is the value)`);
    }
  }
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_CONCURRENCY)) {
    throw usage(`--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got "${value}")`);
  }
  return n;
}

/** Parses argv (without node and the script). Throws CliError with exit status 2 on misuse. */
export function parseInvocation(argv: readonly string[], env: Record<string, string | undefined>): Invocation {
  const parsed = lenientParse(argv);
  checkOptions(parsed.tokens);
  // After checkOptions, every value has its declared type.
  const values = parsed.values as { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : true };
  const { positionals } = parsed;
  const json = values.json === true;
  const quiet = values.quiet === true;
  const settings = cliSettings(env, { broker: values.broker, token: values.token });
  if (!settings.ok) throw usage(settings.problems.map((p) => `${p.variable} ${p.message}`).join('; '));
  const { brokerUrl, brokerUrlFrom, token } = settings.settings;
  const base = { brokerUrl, brokerUrlFrom, json, quiet };
  if (values.help) return { ...base, command: { name: 'help' }, auth: undefined };
  if (values.version) return { ...base, command: { name: 'version' }, auth: undefined };

  const [name, ...rest] = positionals;
  if (name === undefined) throw usage('a command is required: upload, download, ls, rm or uploads');
  if (!COMMANDS.includes(name)) throw usage(`unknown command "${name}"; expected one of: ${COMMANDS.join(', ')}`);
  if (values.to !== undefined && name !== 'upload') throw usage('--to applies to upload only');
  if (values.output !== undefined && name !== 'download') throw usage('-o/--output applies to download only');
  if (values.concurrency !== undefined && name !== 'upload') throw usage('--concurrency applies to upload only');
  if (values.recursive !== undefined && name !== 'upload') throw usage('-r/--recursive applies to upload only');
  if (values['no-resume'] !== undefined && name !== 'upload') throw usage('--no-resume applies to upload only');
  if (values.abort !== undefined && name !== 'uploads') throw usage('--abort applies to uploads only');
  if (values.confirm !== undefined && name !== 'upload') throw usage('--confirm applies to upload only');

  let command: Command;
  switch (name) {
    case 'upload':
      if (rest.length === 0) throw usage('upload needs at least one file or folder');
      if (values.to !== undefined && rest.length > 1 && !values.to.endsWith('/')) {
        throw usage('with several files, --to must be a folder ending in "/"');
      }
      command = {
        name,
        files: rest,
        to: values.to,
        concurrency: parseConcurrency(values.concurrency),
        resume: values['no-resume'] !== true,
        confirm: values.confirm === true,
      };
      break;
    case 'download':
      if (rest.length !== 1) throw usage('download needs exactly one key');
      command = { name, key: rest[0]!, output: values.output };
      break;
    case 'uploads':
      if (rest.length > 0) throw usage('uploads takes no arguments');
      command = { name, abort: values.abort === true };
      break;
    case 'ls':
      if (rest.length > 1) throw usage('ls takes at most one prefix');
      command = { name, prefix: rest[0] };
      break;
    default:
      if (rest.length !== 1) throw usage('rm needs exactly one key');
      command = { name: 'rm', key: rest[0]! };
  }

  const dev = values['dev-login'];
  if (values.token !== undefined && dev !== undefined) throw usage('use either --token or --dev-login, not both');
  if (dev !== undefined && dev.length > MAX_DEV_LOGIN) {
    throw usage(`--dev-login NAME must be at most ${MAX_DEV_LOGIN} characters (got ${dev.length})`);
  }
  const auth: Auth | undefined =
    dev !== undefined ? { kind: 'dev', name: dev } : token ? { kind: 'token', token } : undefined;
  if (!auth) throw usage('sign in with --token JWT (or KEYHOLE_TOKEN) or --dev-login NAME');
  return { ...base, command, auth };
}
