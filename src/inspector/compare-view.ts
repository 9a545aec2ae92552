// The compare tab: counts of entries only in A, only in B, with the path the loader uses
// changed, shadowed by a second entry, or with an unused second entry added or removed; a table
// of those rows with a filter by kind, and every path of the selected row in full below it.
import { h } from './dom.js';
import type { ChangeKind, CompareResult, CompareRow } from './compare.js';
import { flagsWords } from './entry-text.js';
import { VirtualGrid } from './virtual-grid.js';

const KIND_LABELS: Record<ChangeKind, string> = {
  'only-a': 'only in A',
  'only-b': 'only in B',
  changed: 'path changed',
  shadowed: 'shadowed in B',
  unused: 'unused entry',
};

const KIND_HELP: Record<ChangeKind, string> = {
  'only-a': 'in A only',
  'only-b': 'in B only',
  changed: 'the loader finds another file in B: the path it used in A is gone',
  shadowed: "A's path is still in B, but a second entry comes first there and the loader takes it",
  unused: 'the loader uses the same path in both; a later entry with this name, which it never reaches, was added or removed',
};

/** The paths of one side, the one the loader uses first (`1. …`, `2. … (shadowed)`). */
function pathList(paths: readonly string[]): string {
  if (paths.length <= 1) return paths[0] ?? '';
  return paths.map((path, i) => `${i + 1}. ${path}`).join('  ');
}

function sidePaths(side: 'A' | 'B', name: string, paths: readonly string[], other: readonly string[]): HTMLElement {
  return h(
    'div',
    { class: 'compare-side', 'data-testid': `compare-paths-${side.toLowerCase()}` },
    h('span', { class: 'fact-label' }, `${side} (${name})`),
    paths.length === 0
      ? h('span', { class: 'muted' }, ' no entry')
      : h(
          'ol',
          { class: 'compare-paths' },
          ...paths.map((path, i) =>
            h(
              'li',
              { class: 'mono', 'data-used': String(i === 0), 'data-new': String(!other.includes(path)) },
              path,
              h('span', { class: 'muted' }, i === 0 ? '  used by the loader' : '  shadowed: never used'),
            ),
          ),
        ),
  );
}

export function renderCompare(target: HTMLElement, result: CompareResult, nameA: string, nameB: string): void {
  const rows = result.rows;
  const details = h('div', { class: 'details compare-details', 'aria-live': 'polite', 'data-testid': 'compare-details' });
  const showDetails = (row: CompareRow | undefined): void => {
    if (!row) {
      details.replaceChildren(h('span', { class: 'muted' }, 'Select a row to see every path in full.'));
      return;
    }
    details.replaceChildren(
      h('div', { class: 'fact mono wide-fact' }, row.name, h('span', { class: 'muted' }, ` (${flagsWords(row.flags)}${row.hwcap ? `, ${row.hwcap}` : ''})`)),
      h('div', { class: 'compare-kind', 'data-change': row.kind }, h('b', {}, KIND_LABELS[row.kind]), `: ${KIND_HELP[row.kind]}`),
      sidePaths('A', nameA, row.pathsA, row.pathsB),
      sidePaths('B', nameB, row.pathsB, row.pathsA),
    );
  };
  const grid = new VirtualGrid({
    label: `Differences between ${nameA} and ${nameB}`,
    emptyText: 'The two caches list the same entries with the same paths.',
    columns: [
      { id: 'kind', label: 'Change', width: '9.5rem', text: (item) => KIND_LABELS[rows[item]!.kind] },
      { id: 'name', label: 'Name', width: 'minmax(0, 1fr)', mono: true, text: (item) => rows[item]!.name },
      { id: 'flags', label: 'Flags', width: '9rem', mono: true, text: (item) => flagsWords(rows[item]!.flags) },
      { id: 'hwcap', label: 'hwcap', width: 'minmax(4rem, 0.3fr)', mono: true, text: (item) => rows[item]!.hwcap },
      { id: 'a', label: 'Path in A', width: 'minmax(0, 1.5fr)', mono: true, text: (item) => pathList(rows[item]!.pathsA) },
      { id: 'b', label: 'Path in B', width: 'minmax(0, 1.5fr)', mono: true, text: (item) => pathList(rows[item]!.pathsB) },
    ],
    rowAttributes: (item) => ({ 'data-change': rows[item]!.kind }),
    onSelect: (item) => showDetails(item === undefined ? undefined : rows[item]),
  });
  grid.element.dataset.testid = 'compare-grid';

  const all = rows.map((_, i) => i);
  const filterButtons: HTMLButtonElement[] = [];
  const filterButton = (kind: ChangeKind | 'all', label: string, count: number) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: `filter-chip kind-${kind}`,
        'aria-pressed': String(kind === 'all'),
        'data-testid': `compare-${kind}`,
        title: kind === 'all' ? undefined : KIND_HELP[kind],
      },
      `${label} `,
      h('b', { 'data-count': count }, count.toLocaleString('en-US')),
    );
    button.addEventListener('click', () => {
      for (const other of filterButtons) other.setAttribute('aria-pressed', String(other === button));
      grid.setItems(kind === 'all' ? all : all.filter((i) => rows[i]!.kind === kind));
    });
    filterButtons.push(button);
    return button;
  };

  target.replaceChildren(
    h(
      'div',
      { class: 'entries-view' },
      h(
        'div',
        { class: 'toolbar compare-bar' },
        h('span', { class: 'compare-names' }, h('b', {}, 'A'), ' ', h('span', { class: 'mono' }, nameA), '  ', h('b', {}, 'B'), ' ', h('span', { class: 'mono' }, nameB)),
        h(
          'div',
          { class: 'filter-chips', role: 'group', 'aria-label': 'Show' },
          filterButton('all', 'all differences', rows.length),
          filterButton('only-a', KIND_LABELS['only-a'], result.counts['only-a']),
          filterButton('only-b', KIND_LABELS['only-b'], result.counts['only-b']),
          filterButton('changed', KIND_LABELS.changed, result.counts.changed),
          filterButton('shadowed', KIND_LABELS.shadowed, result.counts.shadowed),
          filterButton('unused', KIND_LABELS.unused, result.counts.unused),
        ),
        h('span', { class: 'muted' }, `${result.unchanged.toLocaleString('en-US')} unchanged`),
      ),
      grid.element,
      details,
    ),
  );
  grid.setItems(all);
  showDetails(undefined);
}
