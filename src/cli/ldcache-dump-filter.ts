// `--arch` / `--grep` for ldcache-dump: which entries to show. The text output hands the test to
// the formatter (so the lines stay exactly ldconfig's); JSON gets a view of the cache holding
// only the matching entries. Either way the count describes what is shown.
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

/** The test an entry must pass to be shown. */
export function entryFilter(filter: EntryFilter): (entry: LdCacheEntry) => boolean {
  const pattern = filter.grep === undefined ? undefined : compile(filter.grep);
  const arch = filter.arch;
  return (entry) =>
    (arch === undefined || entry.arch === arch) &&
    (pattern === undefined || pattern.test(entry.name) || pattern.test(entry.path));
}

/** The entries of `cache` that pass `keep`, as a cache whose `count` is theirs. */
export function filterCache(cache: LdCache, keep: (entry: LdCacheEntry) => boolean): LdCache {
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
