// Configuration problems are collected, not thrown one at a time: a wrong deployment learns about
// every wrong variable at once. Each problem names exactly one variable.
import { ConfigError } from '../errors.js';

/** One wrong or missing environment variable, and what was expected of it. */
export interface ConfigProblem {
  readonly variable: string;
  /** What is wrong, without the variable's name: `expected an integer from 0 to 65535 (got "x")`. */
  readonly message: string;
}

/** The problems found so far, and which variables could not be read at all. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  readonly #unreadable = new Set<string>();

  add(variable: string, message: string): void {
    this.list.push({ variable, message });
  }

  /** A value that could not be parsed: checks that need it are skipped instead of guessing. */
  unreadable(variable: string, message: string): void {
    this.add(variable, message);
    this.#unreadable.add(variable);
  }

  /** True when any of these variables could not be parsed. */
  anyUnreadable(variables: readonly string[]): boolean {
    return variables.some((v) => this.#unreadable.has(v));
  }

  /** The value, or a "required" problem when it is unset (but not when it was set and unreadable). */
  need<T>(value: T | undefined, variable: string, why: string): T | undefined {
    if (value === undefined && !this.#unreadable.has(variable)) this.add(variable, `is required ${why}`);
    return value;
  }

  /** Records a ConfigError another module threw. */
  addError(err: ConfigError): void {
    this.add(err.variable, err.reason);
  }
}

const PROBLEMS = Symbol('keyhole.configProblems');

/**
 * One ConfigError for all the problems: its `variable` is the first one's and its message has one
 * line per problem, `VARIABLE: what`. With a single problem it is exactly `new ConfigError(variable,
 * message)`. The full list is available through {@link configProblems}.
 */
export function configError(problems: readonly ConfigProblem[]): ConfigError {
  const [first, ...rest] = problems;
  if (!first) throw new RangeError('configError needs at least one problem');
  const err = new ConfigError(
    first.variable,
    [first.message, ...rest.map((p) => `${p.variable}: ${p.message}`)].join('\n'),
  );
  // Not enumerable: a ConfigError from here equals (toThrow, deepEqual) one built by hand.
  Object.defineProperty(err, PROBLEMS, { value: Object.freeze([...problems]), enumerable: false });
  return err;
}

/** Every problem a ConfigError carries: the list `loadConfig` found, or its single variable. */
export function configProblems(err: ConfigError): readonly ConfigProblem[] {
  const list = (err as unknown as Record<symbol, readonly ConfigProblem[] | undefined>)[PROBLEMS];
  return list ?? [{ variable: err.variable, message: err.reason }];
}
