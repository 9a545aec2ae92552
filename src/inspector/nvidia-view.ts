// The NVIDIA tab: driver libraries grouped by category and bits, the driver version(s) seen, and
// entries of another driver version marked as strays. Which entries are driver libraries, and
// the version each shows, come from the core (classifyNvidiaCache); where an entry's own name and
// path show no version, the page takes the evidence of its directory: beside the driver's
// versioned files it is the driver's, beside only another version's files it is a stray.
import { classifyNvidiaCache, type NvidiaCacheClassification, type NvidiaEntryStatus } from '../core/nvidia.js';
import type { LdCache } from '../core/types.js';
import { entryAt } from './cache-stats.js';
import { h, plural } from './dom.js';
import { flagsWords } from './entry-text.js';

export interface NvidiaRow {
  readonly index: number;
  readonly category: string;
  readonly bits: 32 | 64 | null;
  readonly version: string | null;
  readonly status: NvidiaEntryStatus;
  /** Where the version came from: the entry's own name/path, or its directory's other entries. */
  readonly evidence: 'entry' | 'directory' | 'none';
}

export interface NvidiaForView {
  readonly classification: NvidiaCacheClassification;
  readonly rows: readonly NvidiaRow[];
  readonly count: number;
  /** `data-nvidia` of a cache entry, or undefined when it is not a driver library. */
  statusOf(index: number): NvidiaEntryStatus | undefined;
}

function directoryOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

/** Classifies the candidate entries (see cache-stats: names that start with a driver library stem). */
export function classifyForView(cache: LdCache, candidates: readonly number[]): NvidiaForView {
  const core = classifyNvidiaCache({ entries: candidates.map((index) => entryAt(cache, index)) });
  // The newest version seen is taken for the installed driver: files of another version are what
  // an upgrade or a second flavour leaves behind. (A count of versioned names can favour the
  // leftovers: Debian's 470 flavour has more versioned sonames than 535.)
  const driverVersion = core.versions[0] ?? null;
  const classification: NvidiaCacheClassification = { ...core, driverVersion };
  const pathOf = (index: number) => entryAt(cache, index).path;
  const own = core.entries.map((item): NvidiaRow => {
    if (item.status === 'unversioned') return { ...item, evidence: 'none' };
    if (item.version === null) return { ...item, evidence: 'entry' };
    return { ...item, status: item.version === driverVersion ? 'driver' : 'stray', evidence: 'entry' };
  });
  // What each directory's self-describing entries say.
  const seenIn = new Map<string, Set<NvidiaEntryStatus>>();
  for (const row of own) {
    if (row.status === 'unversioned') continue;
    const dir = directoryOf(pathOf(row.index));
    let statuses = seenIn.get(dir);
    if (!statuses) seenIn.set(dir, (statuses = new Set()));
    statuses.add(row.status);
  }
  const rows = own.map((row): NvidiaRow => {
    if (row.status !== 'unversioned') return row;
    const statuses = seenIn.get(directoryOf(pathOf(row.index)));
    if (statuses?.has('driver')) return { ...row, status: 'driver', version: driverVersion, evidence: 'directory' };
    if (statuses?.has('stray')) return { ...row, status: 'stray', evidence: 'directory' };
    return row;
  });
  const byIndex = new Map(rows.map((row) => [row.index, row.status]));
  return { classification, rows, count: rows.length, statusOf: (index) => byIndex.get(index) };
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
          const label = row.status === 'stray' ? `stray${row.version ? ` ${row.version}` : ''}` : row.status === 'driver' ? (row.version ?? 'driver') : 'version unknown';
          return h(
            'li',
            { 'data-nvidia': row.status, 'data-index': row.index, title: row.evidence === 'directory' ? 'version taken from the other driver files in this directory' : undefined },
            h('span', { class: 'nvidia-name' }, entry.name, h('span', { class: 'muted' }, ` (${flagsWords(entry.flags)})`)),
            h('span', { class: `status-tag ${row.status}` }, label),
            h('span', { class: 'nvidia-path' }, entry.path),
          );
        }),
      ),
    );
  };
  target.replaceChildren(h('div', { class: 'nvidia', 'data-testid': 'nvidia-view' }, versions, h('div', { class: 'nvidia-groups' }, ...ordered.map(section))));
}
