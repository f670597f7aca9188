import { parseArgs } from 'node:util';
import { cliSettings } from '../../server/config/cli-env.js';
import { DEFAULT_BROKER_URL } from '../../server/config/formats.js';
import { CliError, EXIT } from './exit-codes.js';

export const USAGE = `Usage:
  keyhole upload <files...> [--to KEY]   upload files (--to a key, or a folder ending in "/")
  keyhole download <key> [-o FILE]       download a key (-o - writes to stdout)
  keyhole ls [prefix]                    list your files
  keyhole rm <key>                       delete a key

Keys are relative to the prefix the broker grants you (e.g. users/alice/).

Options:
  --broker URL        broker base URL (env KEYHOLE_BROKER_URL; default ${DEFAULT_BROKER_URL})
  --token JWT         your bearer token (env KEYHOLE_TOKEN)
  --dev-login NAME    sign in through the broker's dev login (local development only)
  --json              print one JSON document on stdout, no progress
  -q, --quiet         no progress bars
  -h, --help          show this help
  --version           print the version

Exit status:
  0 ok · 1 failed · 2 usage · 3 authentication · 4 access denied · 5 not found
  6 broker or S3 unreachable · 7 local file error · 130 interrupted (upload aborted)`;

export type Command =
  | { readonly name: 'upload'; readonly files: readonly string[]; readonly to: string | undefined }
  | { readonly name: 'download'; readonly key: string; readonly output: string | undefined }
  | { readonly name: 'ls'; readonly prefix: string | undefined }
  | { readonly name: 'rm'; readonly key: string }
  | { readonly name: 'help' }
  | { readonly name: 'version' };

export type Auth = { readonly kind: 'token'; readonly token: string } | { readonly kind: 'dev'; readonly name: string };

export interface Invocation {
  readonly command: Command;
  readonly brokerUrl: string;
  readonly auth: Auth | undefined;
  readonly json: boolean;
  readonly quiet: boolean;
}

const COMMANDS = ['upload', 'download', 'ls', 'rm'];

function usage(message: string): CliError {
  return new CliError('usage', EXIT.usage, message);
}

/** Parses argv (without node and the script). Throws CliError with exit status 2 on misuse. */
export function parseInvocation(argv: readonly string[], env: Record<string, string | undefined>): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        broker: { type: 'string' },
        token: { type: 'string' },
        'dev-login': { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        to: { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw usage((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  const quiet = values.quiet === true;
  const settings = cliSettings(env, { broker: values.broker, token: values.token });
  if (!settings.ok) throw usage(settings.problems.map((p) => `${p.variable} ${p.message}`).join('; '));
  const { brokerUrl, token } = settings.settings;
  const base = { brokerUrl, json, quiet };
  if (values.help) return { ...base, command: { name: 'help' }, auth: undefined };
  if (values.version) return { ...base, command: { name: 'version' }, auth: undefined };

  const [name, ...rest] = positionals;
  if (name === undefined) throw usage('a command is required: upload, download, ls or rm');
  if (!COMMANDS.includes(name)) throw usage(`unknown command "${name}"; expected one of: ${COMMANDS.join(', ')}`);
  if (values.to !== undefined && name !== 'upload') throw usage('--to applies to upload only');
  if (values.output !== undefined && name !== 'download') throw usage('-o/--output applies to download only');

  let command: Command;
  switch (name) {
    case 'upload':
      if (rest.length === 0) throw usage('upload needs at least one file');
      if (values.to !== undefined && rest.length > 1 && !values.to.endsWith('/')) {
        throw usage('with several files, --to must be a folder ending in "/"');
      }
      command = { name, files: rest, to: values.to };
      break;
    case 'download':
      if (rest.length !== 1) throw usage('download needs exactly one key');
      command = { name, key: rest[0]!, output: values.output };
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
  const auth: Auth | undefined =
    dev !== undefined ? { kind: 'dev', name: dev } : token ? { kind: 'token', token } : undefined;
  if (!auth) throw usage('sign in with --token JWT (or KEYHOLE_TOKEN) or --dev-login NAME');
  return { ...base, command, auth };
}
