// What every CLI shares: one-line errors, no stack traces, quiet exit on a closed pipe.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from './suggest.js';

/** A failure the user caused or can fix: printed as `prog: message`, exit `code`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Usage errors exit 2; `hint: false` when the line already says all (no "Try --help" line). */
export class UsageError extends CliError {
  constructor(
    message: string,
    readonly hint = true,
  ) {
    super(message, 2);
  }
}

/** `unknown X 'given'` with the closest known word, else the list of known ones: one line. */
export function unknownWord(what: string, given: string, known: readonly string[]): UsageError {
  const near = closest(given, known);
  return new UsageError(`unknown ${what} '${given}' (${near !== null ? `did you mean '${near}'?` : `known: ${known.join(', ')}`})`, false);
}

/** The first option of argv that the config does not know, as typed (`--rot`, `-x`). */
function firstUnknownOption(config: ParseArgsConfig): string | null {
  const { tokens } = parseArgs({ ...config, strict: false, tokens: true });
  const options = config.options ?? {};
  for (const token of tokens) {
    if (token.kind === 'option' && !Object.hasOwn(options, token.name)) return token.rawName;
  }
  return null;
}

/** Every option of a config as typed: `--root`, `-h`, … */
function knownOptions(config: ParseArgsConfig): string[] {
  const names: string[] = [];
  for (const [name, option] of Object.entries(config.options ?? {})) {
    names.push(`--${name}`);
    if (option.short !== undefined) names.push(`-${option.short}`);
  }
  return names;
}

/**
 * Parses argv strictly (`parseArgs` with strict: true). An unknown option becomes one line with
 * the closest known option; a missing or empty value (`--root ""`, which would otherwise mean
 * the current directory) a UsageError. Example:
 * `parseCliArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true })`.
 */
export function parseCliArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const unknown = firstUnknownOption(config);
      if (unknown !== null) throw unknownWord('option', unknown, knownOptions(config));
    }
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
  for (const [name, value] of Object.entries(parsed.values as Record<string, unknown>)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => v === '')) throw new UsageError(`option '--${name}' needs a non-empty value`);
  }
  return parsed;
}

/** Writes to stdout; resolves once flushed. */
export function writeOut(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

export interface RunCliOptions {
  /**
   * Whether this run asked for JSON (e.g. `--json` among its arguments): a failure then also
   * prints `{"error":{"code","message","path"?,"exitCode"}}` on stdout, for scripts that parse it.
   */
  json?: () => boolean;
}

/** `--json` among the arguments, before a `--` that ends the options. */
export function asksForJson(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** A failure as JSON: the error's own string `code` (HostError, LdCacheError), else USAGE or ERROR. */
function errorJson(err: unknown, message: string, exitCode: number): string {
  const own = (err as { code?: unknown } | null)?.code;
  const path = (err as { path?: unknown } | null)?.path;
  const code = typeof own === 'string' && !(err instanceof CliError) ? own : exitCode === 2 ? 'USAGE' : 'ERROR';
  return `${JSON.stringify({ error: { code, message, ...(typeof path === 'string' ? { path } : {}), exitCode } })}\n`;
}

/** Runs `main`, turning every failure into one line on stderr and an exit code. */
export function runCli(prog: string, main: () => Promise<number | void> | number | void, options: RunCliOptions = {}): void {
  // `prog | head` closes the pipe: end quietly, as the classic tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`${prog}: ${err.message}\n`);
    process.exit(1);
  });
  const fail = (err: unknown): void => {
    const code = err instanceof CliError ? err.exitCode : 1;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${prog}: ${message.split('\n')[0]}\n`);
    if (options.json?.()) process.stdout.write(errorJson(err, message.split('\n')[0]!, code));
    if (code === 2 && !(err instanceof UsageError && !err.hint)) process.stderr.write(`Try '${prog} --help' for more information.\n`);
    process.exitCode = code;
  };
  try {
    Promise.resolve(main()).then((code) => {
      if (typeof code === 'number') process.exitCode = code;
    }, fail);
  } catch (err) {
    fail(err);
  }
}
