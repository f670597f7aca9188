import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from '../errors.js';

/**
 * Reads `KEY=VALUE` lines from `KEYHOLE_ENV_FILE` (when set) under the real environment, which wins.
 * Throws a ConfigError naming `KEYHOLE_ENV_FILE` when the file cannot be read.
 */
export function withEnvFile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.KEYHOLE_ENV_FILE;
  if (!file) return env;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'KEYHOLE_ENV_FILE',
      `cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'}); run \`npm run local:up\` to create it`,
    );
  }
  return { ...parseEnv(text), ...env };
}
