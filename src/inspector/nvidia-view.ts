// The NVIDIA tab: driver libraries grouped by category and bits, the driver version(s) seen, and
// entries of another driver version marked as strays (see nvidia-status.ts for how).
import { versionInName } from '../core/nvidia-libraries.js';
import type { LdCache, LdCacheEntry } from '../core/types.js';
import { entryAt } from './cache-stats.js';
import { h, plural } from './dom.js';
import { flagsWords } from './entry-text.js';
import type { NvidiaForView, NvidiaRow } from './nvidia-status.js';

const EVIDENCE: Record<NvidiaRow['evidence'], string | undefined> = {
  entry: undefined,
  directory: 'version taken from the other driver files in this directory',
  loader: 'the first of several entries with this name: the one the loader uses',
  shadowed: 'a later entry with the same name in another directory: the loader never uses it',
  none: 'neither the name nor the path shows a driver version',
};

/**
 * Whether the version shown is proven by the entry's own file name (its name or the file its
 * path names), or only inferred: from a directory name (`/opt/nvidia/535.261.03/`, `tesla-470/`),
 * from the other files of its directory, or from the loader's order.
 */
function versionFrom(entry: LdCacheEntry, version: string | null): 'name' | 'inferred' | 'none' {
  if (version === null) return 'none';
  const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
  return versionInName(entry.name) === version || versionInName(base) === version ? 'name' : 'inferred';
}

const CATEGORY_ORDER = ['utility', 'compute', 'video', 'graphics', 'ngx', 'dxcore'];

export function renderNvidia(target: HTMLElement, cache: LdCache, nvidia: NvidiaForView): void {
  const { classification, rows } = nvidia;
  if (rows.length === 0) {
    target.replaceChildren(h('div', { class: 'empty-note', 'data-testid': 'nvidia-empty' }, 'No NVIDIA driver library in this cache.'));
    return;
  }
  const strays = rows.filter((row) => row.status === 'stray').length;
  const versions = h(
    'div',
    { class: 'nvidia-versions', 'data-testid': 'nvidia-versions' },
    h('span', {}, classification.versions.length > 1 ? 'Driver versions seen:' : 'Driver version:'),
    ...classification.versions.map((version) =>
      h('span', { class: `version-badge ${version === classification.driverVersion ? 'driver' : 'stray'}`, 'data-version': version }, version, version === classification.driverVersion ? '' : ' · stray'),
    ),
    classification.versions.length === 0 ? h('span', { class: 'muted' }, 'not visible in the cache (no versioned file name)') : null,
    h(
      'span',
      { class: 'muted' },
      ` ${plural(rows.length, 'driver library entry', 'driver library entries')}`,
      strays ? `, ${plural(strays, 'stray')} of another version` : '',
    ),
  );

  const groups = new Map<string, NvidiaRow[]>();
  for (const row of rows) {
    const key = `${row.category}\u0000${row.bits ?? '?'}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  const ordered = [...groups].sort(([a], [b]) => {
    const [categoryA, bitsA] = a.split('\u0000') as [string, string];
    const [categoryB, bitsB] = b.split('\u0000') as [string, string];
    return CATEGORY_ORDER.indexOf(categoryA) - CATEGORY_ORDER.indexOf(categoryB) || bitsB.localeCompare(bitsA);
  });

  const section = ([key, group]: [string, NvidiaRow[]]) => {
    const [category, bits] = key.split('\u0000') as [string, string];
    return h(
      'section',
      { class: 'nvidia-group', 'data-category': category, 'data-bits': bits, 'aria-label': `${category}, ${bits}-bit` },
      h('h3', {}, category, h('span', { class: 'muted' }, `${bits === '?' ? 'unknown width' : `${bits}-bit`} · ${group.length}`)),
      h(
        'ul',
        { class: 'nvidia-list' },
        ...group.map((row) => {
          const entry = entryAt(cache, row.index);
          const from = versionFrom(entry, row.version);
          // An inferred version reads as such: `~535.261.03`, in italics, with the reason on hover.
          const version = row.version === null ? null : from === 'inferred' ? `~${row.version}` : row.version;
          const label = row.status === 'stray' ? `stray${version ? ` ${version}` : ''}` : row.status === 'driver' ? (version ?? 'driver') : 'version unknown';
          const why = from === 'inferred' ? 'version inferred, not in the file name' : undefined;
          return h(
            'li',
            { 'data-nvidia': row.status, 'data-index': row.index, 'data-evidence': row.evidence, title: [why, EVIDENCE[row.evidence]].filter(Boolean).join(': ') || undefined },
            h('span', { class: 'nvidia-name' }, entry.name, h('span', { class: 'muted' }, ` (${flagsWords(entry.flags)})`)),
            h('span', { class: `status-tag ${row.status}`, 'data-version-from': from, title: why }, label),
            h('span', { class: 'nvidia-path' }, entry.path),
          );
        }),
      ),
    );
  };
  target.replaceChildren(h('div', { class: 'nvidia', 'data-testid': 'nvidia-view' }, versions, h('div', { class: 'nvidia-groups' }, ...ordered.map(section))));
}
