// The container's environment as the docker command line sets it: `--env-file` files first, then
// `-e`/`--env`, later ones winning (docker's order). nvidia-container-runtime reads
// NVIDIA_VISIBLE_DEVICES from that environment, on top of the image's own ENV.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import type { DockerCommand } from './docker-args.js';

/** A variable as the command line leaves it: set (with where), removed (`-e NAME` with NAME unset here), or not mentioned. */
export type CommandLineValue = { kind: 'set'; value: string; source: string } | { kind: 'removed' } | undefined;

/**
 * An env file's entries as docker reads them: lines split at `\n` (a trailing `\r` dropped), a
 * UTF-8 BOM dropped, leading white space trimmed, blank and `#` lines skipped, `NAME=value` with
 * the value untouched, a bare `NAME` taken from `callerEnv` when set there (else left out). A name
 * that is empty or holds white space is an error, as in docker.
 */
export function parseEnvFile(text: string, file: string, callerEnv: NodeJS.ProcessEnv): string[] {
  const entries: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    const name = equals >= 0 ? line.slice(0, equals) : line.trimEnd();
    if (name === '') throw new Error(`--env-file ${file}: line ${index + 1}: no variable name`);
    if (/\s/.test(name)) throw new Error(`--env-file ${file}: line ${index + 1}: variable '${name}' contains white space`);
    if (equals >= 0) entries.push(line);
    else if (callerEnv[name] !== undefined) entries.push(`${name}=${callerEnv[name]}`);
  });
  return entries;
}

/** Bound on an env file (docker reads lines of at most 64 KiB; a real file is a few KiB). */
export const MAX_ENV_FILE = 16 << 20;

/**
 * Reads an env file named on the command line; one-line errors that name it. Only a regular file:
 * what the wrapper reads from a pipe or FIFO (`--env-file <(…)`) docker would no longer find, and
 * /dev/zero never ends. Opened without blocking (a FIFO with no writer), checked on the open file.
 */
function readEnvFile(file: string, callerEnv: NodeJS.ProcessEnv): string[] {
  let text: string;
  let fd: number | null = null;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    if (!stats.isFile()) {
      throw new Error(`--env-file ${file}: not a regular file (a pipe, FIFO or device: what nvidia-docker read, docker would not find); write the variables to a file, or give -e NVIDIA_VISIBLE_DEVICES=…`);
    }
    if (stats.size > MAX_ENV_FILE) throw new Error(`--env-file ${file}: ${stats.size} bytes, more than the ${MAX_ENV_FILE >> 20} MiB an env file may have`);
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.message.startsWith('--env-file ')) throw e;
    throw new Error(`--env-file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  return parseEnvFile(text, file, callerEnv);
}

/**
 * `name` as the command line sets it for the container. `-e NAME` passes `callerEnv`'s value;
 * with NAME unset there it removes the variable (docker then drops the image's value too).
 */
export function commandLineValue(found: DockerCommand, name: string, callerEnv: NodeJS.ProcessEnv): CommandLineValue {
  let result: CommandLineValue;
  const apply = (entry: string, source: string): void => {
    if (entry === name) result = callerEnv[name] !== undefined ? { kind: 'set', value: callerEnv[name]!, source } : { kind: 'removed' };
    else if (entry.startsWith(`${name}=`)) result = { kind: 'set', value: entry.slice(name.length + 1), source };
  };
  // -e wins over every env file: when it names the variable, the files are not read at all.
  for (const entry of found.env) apply(entry, '-e');
  if (result !== undefined) return result;
  for (const file of found.envFiles) for (const entry of readEnvFile(file, callerEnv)) apply(entry, `--env-file ${file}`);
  return result;
}
