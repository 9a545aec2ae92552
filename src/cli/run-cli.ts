// What every CLI shares: one-line errors, no stack traces, quiet exit on a closed pipe.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A failure the user caused or can fix: printed as `prog: message`, exit `code`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Usage errors exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/**
 * Parses argv strictly (`parseArgs` with strict: true); unknown options and missing values
 * become a UsageError. Example: `parseCliArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true })`.
 */
export function parseCliArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

/** Writes to stdout; resolves once flushed. */
export function writeOut(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

/** Runs `main`, turning every failure into one line on stderr and an exit code. */
export function runCli(prog: string, main: () => Promise<number | void> | number | void): void {
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
    if (code === 2) process.stderr.write(`Try '${prog} --help' for more information.\n`);
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
