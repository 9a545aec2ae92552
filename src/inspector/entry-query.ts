// Filtering and sorting of a cache's entries for the table. Strings are decoded lazily: the
// first paint touches only the visible rows; a search or a sort decodes a column once.
import type { LdCache } from '../core/types.js';
import { entryAt, type CacheStats } from './cache-stats.js';
import { decodeColumn } from './column-text.js';
import { flagsWords, hwcapText } from './entry-text.js';
import type { SortDirection } from './virtual-grid.js';

export type EntryColumn = 'index' | 'name' | 'flags' | 'hwcap' | 'path';

export interface EntryQuery {
  readonly search: string;
  readonly arch: string;
  /** A key of CacheStats.hwcap: a glibc-hwcaps name, NO_HWCAP or LEGACY_HWCAP; empty for any. */
  readonly hwcap: string;
  /** Keeps only the entries this returns true for. */
  readonly only?: ((index: number) => boolean) | undefined;
  readonly sort?: { readonly column: EntryColumn; readonly direction: SortDirection } | undefined;
}

export class EntryIndex {
  private readonly columns = new Map<EntryColumn, string[]>();
  private lowerNames: string[] | undefined;
  private lowerPaths: string[] | undefined;

  constructor(
    readonly cache: LdCache,
    private readonly stats: CacheStats,
  ) {}

  /** The column's text for every entry, decoded once. */
  column(column: Exclude<EntryColumn, 'index'>): string[] {
    let values = this.columns.get(column);
    if (!values) {
      if (column === 'name' || column === 'path') {
        values = decodeColumn(this.cache, column);
      } else {
        const count = this.cache.count;
        values = new Array<string>(count);
        for (let i = 0; i < count; i++) {
          const entry = entryAt(this.cache, i);
          values[i] = column === 'flags' ? flagsWords(entry.flags) : hwcapText(entry);
        }
      }
      this.columns.set(column, values);
    }
    return values;
  }

  /** Entry indices that match `query`, in the requested order (file order by default). */
  run(query: EntryQuery): Uint32Array {
    const count = this.cache.count;
    const needle = query.search.trim().toLowerCase();
    const unfiltered = !needle && !query.arch && !query.hwcap && !query.only;
    let matches: Uint32Array;
    if (unfiltered) {
      matches = new Uint32Array(count);
      for (let i = 0; i < matches.length; i++) matches[i] = i;
    } else {
      if (needle) {
        this.lowerNames ??= this.column('name').map((name) => name.toLowerCase());
        this.lowerPaths ??= this.column('path').map((path) => path.toLowerCase());
      }
      const kept: number[] = [];
      const { archOf, hwcapOf } = this.stats;
      for (let i = 0; i < count; i++) {
        if (query.only && !query.only(i)) continue;
        if (query.arch && archOf[i] !== query.arch) continue;
        if (query.hwcap && hwcapOf[i] !== query.hwcap) continue;
        if (needle && !this.lowerNames![i]!.includes(needle) && !this.lowerPaths![i]!.includes(needle)) continue;
        kept.push(i);
      }
      matches = Uint32Array.from(kept);
    }
    const sort = query.sort;
    if (sort && sort.column !== 'index') {
      const keys = this.column(sort.column);
      const sign = sort.direction === 'ascending' ? 1 : -1;
      // Plain code-unit order (fast at 200k rows); file order breaks ties so sorting is stable.
      matches.sort((a, b) => {
        const x = keys[a]!;
        const y = keys[b]!;
        return x < y ? -sign : x > y ? sign : a - b;
      });
    } else if (sort?.direction === 'descending') {
      matches.reverse();
    }
    return matches;
  }
}
