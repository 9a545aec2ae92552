// `--arch` / `--grep` for ldcache-dump: a view of the cache holding only the matching entries,
// so that every output (text header count included) describes what is shown.
import type { LdCache, LdCacheEntry } from '../core/types.js';
import { UsageError } from './run-cli.js';

export interface EntryFilter {
  arch?: string;
  grep?: string;
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw new UsageError(`--grep: invalid regular expression: ${(err as Error).message}`);
  }
}

/** The entries of `cache` that pass `filter`, as a cache whose `count` is theirs. */
export function filterCache(cache: LdCache, filter: EntryFilter): LdCache {
  const pattern = filter.grep === undefined ? undefined : compile(filter.grep);
  const arch = filter.arch;
  const keep = (entry: LdCacheEntry): boolean =>
    (arch === undefined || entry.arch === arch) &&
    (pattern === undefined || pattern.test(entry.name) || pattern.test(entry.path));
  const entries = cache.entries.filter(keep);
  return {
    format: cache.format,
    byteOrder: cache.byteOrder,
    entries,
    count: entries.length,
    generator: cache.generator,
    hwcapDirs: cache.hwcapDirs,
    bytes: cache.bytes,
    [Symbol.iterator]: () => entries[Symbol.iterator](),
  };
}
