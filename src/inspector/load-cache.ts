// Reads a chosen File into the wasm core, streaming (File.stream() chunks go straight into the
// core's input region), and turns any failure into one line that names the file.
import { LdCacheError } from '../core/errors.js';
import { parseLdCacheStream } from '../core/stream.js';
import type { LdCache } from '../core/types.js';
import { init } from '../core/wasm.js';

export interface LoadedCache {
  readonly cache: LdCache;
  readonly fileName: string;
  readonly fileSize: number;
  readonly parseMs: number;
}

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

export async function loadCacheFile(file: File): Promise<LoadedCache> {
  const started = performance.now();
  try {
    await init();
    const cache = await parseLdCacheStream(file.stream(), { file: file.name, sizeHint: file.size });
    return { cache, fileName: file.name, fileSize: file.size, parseMs: performance.now() - started };
  } catch (err) {
    throw new LoadError(describeFailure(err, file.name));
  }
}

/** `NAME: reason (at byte N)` for parse errors; `NAME: reason` for anything else (a read failure). */
export function describeFailure(err: unknown, fileName: string): string {
  if (err instanceof LdCacheError) return err.describe(fileName);
  const message = err instanceof Error ? err.message : String(err);
  return `${fileName}: cannot read the file (${message})`;
}
