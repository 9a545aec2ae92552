// Reads CDI spec files as the engines do: `*.json` as JSON, `*.yaml`/`*.yml` as YAML, and lists
// the devices that the specs in a set of spec directories define (`nvidia-ctk cdi list`).
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CdiSpec } from '../core/cdi-types.js';
import { formatCdiProblems, validateCdiSpec } from '../core/cdi-validate.js';
import { parseYaml, YamlError } from '../core/yaml-read.js';

/** The engines' default spec directories, lowest priority first (a device in /var/run/cdi wins). */
export const DEFAULT_CDI_SPEC_DIRS = ['/etc/cdi', '/var/run/cdi'];

/** Larger than any real spec; a bigger file is refused rather than read into memory. */
const MAX_SPEC_BYTES = 64 << 20;

/** A spec file that cannot be read or parsed; the message starts with the file's name. */
export class CdiReadError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

export const isSpecFileName = (name: string): boolean => /\.(json|ya?ml)$/i.test(name) && !name.startsWith('.');

/** Parses spec text: JSON for `*.json`, YAML otherwise. Throws CdiReadError. */
export function parseCdiSpecText(file: string, text: string): unknown {
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    if (err instanceof YamlError || err instanceof SyntaxError) throw new CdiReadError(file, err.message);
    throw err;
  }
}

/** Reads and parses one spec file (not validated). Throws CdiReadError. */
export async function readCdiSpecFile(file: string): Promise<unknown> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO planted in a spec directory must not hang the reader.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CdiReadError(file, e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message.split(',')[0]!);
  }
  let bytes: Buffer;
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new CdiReadError(file, 'is a directory');
    if (!stat.isFile()) throw new CdiReadError(file, 'not a regular file');
    if (stat.size > MAX_SPEC_BYTES) throw new CdiReadError(file, `larger than ${MAX_SPEC_BYTES} bytes`);
    bytes = await handle.readFile();
  } catch (err) {
    if (err instanceof CdiReadError) throw err;
    throw new CdiReadError(file, (err as Error).message.split(',')[0]!);
  } finally {
    await handle.close();
  }
  if (bytes.length > MAX_SPEC_BYTES) throw new CdiReadError(file, `larger than ${MAX_SPEC_BYTES} bytes`);
  return parseCdiSpecText(file, bytes.toString('utf8'));
}

export interface ListedCdiDevices {
  /** Fully qualified names (`vendor/class=name`), sorted. */
  devices: string[];
  /** Spec files the engines would refuse, one line each (`FILE: problem`); their devices are not listed. */
  problems: string[];
}

/**
 * The devices the specs in `dirs` define, as an engine loads them: every `*.json`/`*.yaml` file,
 * each one valid as a whole or not at all.
 */
export async function listCdiDevices(dirs: string[] = DEFAULT_CDI_SPEC_DIRS): Promise<ListedCdiDevices> {
  const devices = new Set<string>();
  const problems: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter(isSpecFileName).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // engines skip a missing directory
      problems.push(`${dir}: ${code === 'ENOTDIR' ? 'not a directory' : (err as Error).message.split(',')[0]}`);
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      let spec: unknown;
      try {
        spec = await readCdiSpecFile(file);
      } catch (err) {
        if (err instanceof CdiReadError) {
          if (!/is a directory/.test(err.message)) problems.push(err.message);
          continue;
        }
        throw err;
      }
      const found = validateCdiSpec(spec).problems;
      if (found.length > 0) {
        problems.push(`${file}: ${formatCdiProblems(found)[0]}${found.length > 1 ? ` (and ${found.length - 1} more; nvidia-volume cdi validate ${file})` : ''}`);
        continue;
      }
      const valid = spec as CdiSpec;
      for (const device of valid.devices) devices.add(`${valid.kind}=${device.name}`);
    }
  }
  return { devices: [...devices].sort(compareDeviceNames), problems };
}

/** Kind first, then names with numbers in numeric order (gpu=2 before gpu=10). */
function compareDeviceNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
