// Compares two caches entry by entry. Entries are keyed by what the loader matches on (name,
// flags, hwcap); of several entries with one key the loader uses the first in the file. A key
// present in both whose paths differ is one of:
//   changed   the path the loader uses in A is gone from B (B uses another);
//   shadowed  A's path is still in B, but a second entry now comes first and the loader takes it;
//   unused    the loader uses the same path in both; an entry it never reaches was added or removed.
import type { LdCache, LdCacheEntry } from '../core/types.js';
import { hwcapText } from './entry-text.js';

export type ChangeKind = 'only-a' | 'only-b' | 'changed' | 'shadowed' | 'unused';

export interface CompareRow {
  readonly kind: ChangeKind;
  readonly name: string;
  readonly flags: number;
  readonly hwcap: string;
  /** Paths under this key in A (empty for only-b), in file order: the first is the one the loader uses. */
  readonly pathsA: readonly string[];
  readonly pathsB: readonly string[];
}

export interface CompareResult {
  readonly rows: readonly CompareRow[];
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** Keys whose paths are the same in both. */
  readonly unchanged: number;
}

interface Group {
  readonly name: string;
  readonly flags: number;
  readonly hwcap: string;
  readonly paths: string[];
}

function groupEntries(cache: LdCache): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const entry of cache.entries as readonly LdCacheEntry[]) {
    const hwcap = hwcapText(entry);
    const key = `${entry.name}\u0000${entry.flags}\u0000${hwcap}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { name: entry.name, flags: entry.flags, hwcap, paths: [] }));
    group.paths.push(entry.path);
  }
  return groups;
}

function samePaths(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedB = [...b].sort();
  return [...a].sort().every((path, i) => path === sortedB[i]);
}

/** What changed for the loader between two different path lists of one key (file order). */
function changeKind(a: readonly string[], b: readonly string[]): ChangeKind {
  if (a[0] === b[0]) return 'unused';
  return b.includes(a[0]!) ? 'shadowed' : 'changed';
}

export function compareCaches(a: LdCache, b: LdCache): CompareResult {
  const groupsA = groupEntries(a);
  const groupsB = groupEntries(b);
  const rows: CompareRow[] = [];
  const counts: Record<ChangeKind, number> = { 'only-a': 0, 'only-b': 0, changed: 0, shadowed: 0, unused: 0 };
  let unchanged = 0;
  for (const [key, group] of groupsA) {
    const other = groupsB.get(key);
    if (!other) {
      rows.push({ kind: 'only-a', name: group.name, flags: group.flags, hwcap: group.hwcap, pathsA: group.paths, pathsB: [] });
    } else if (!samePaths(group.paths, other.paths)) {
      rows.push({ kind: changeKind(group.paths, other.paths), name: group.name, flags: group.flags, hwcap: group.hwcap, pathsA: group.paths, pathsB: other.paths });
    } else {
      unchanged++;
    }
  }
  for (const [key, group] of groupsB) {
    if (!groupsA.has(key)) rows.push({ kind: 'only-b', name: group.name, flags: group.flags, hwcap: group.hwcap, pathsA: [], pathsB: group.paths });
  }
  for (const row of rows) counts[row.kind]++;
  rows.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.flags - y.flags));
  return { rows, counts, unchanged };
}
