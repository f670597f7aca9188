// The `keyhole` command's settings: a command-line flag, else its environment variable, else the
// default (the broker `npm start` runs). Imports nothing from the server but formats, so the CLI
// stays small.
import { DEFAULT_BROKER_URL, isHttpUrl } from './formats.js';
import type { ConfigProblem } from './problems.js';

/** Where the broker URL came from: the flag, the variable, or neither. */
export type BrokerUrlFrom = '--broker' | 'KEYHOLE_BROKER_URL' | 'default';

export interface CliSettings {
  readonly brokerUrl: string;
  readonly brokerUrlFrom: BrokerUrlFrom;
  /** `--token`, else `KEYHOLE_TOKEN`; undefined when neither is set (or empty). */
  readonly token: string | undefined;
}

/** Every problem names where the value came from: the flag or the variable. */
export function cliSettings(
  env: Readonly<Record<string, string | undefined>>,
  flags: { readonly broker?: string | undefined; readonly token?: string | undefined },
): { readonly ok: true; readonly settings: CliSettings } | { readonly ok: false; readonly problems: ConfigProblem[] } {
  const [brokerUrl, source]: [string, BrokerUrlFrom] =
    flags.broker !== undefined
      ? [flags.broker, '--broker']
      : env.KEYHOLE_BROKER_URL
        ? [env.KEYHOLE_BROKER_URL, 'KEYHOLE_BROKER_URL']
        : [DEFAULT_BROKER_URL, 'default'];
  if (!isHttpUrl(brokerUrl)) {
    return {
      ok: false,
      problems: [
        { variable: source, message: `must be an http(s) URL such as ${DEFAULT_BROKER_URL} (got "${brokerUrl}")` },
      ],
    };
  }
  return {
    ok: true,
    settings: { brokerUrl, brokerUrlFrom: source, token: (flags.token ?? env.KEYHOLE_TOKEN) || undefined },
  };
}
