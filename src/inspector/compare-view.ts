// The compare tab: counts of entries only in A, only in B and with changed paths, and a table
// of those rows with a filter by kind.
import { h } from './dom.js';
import type { ChangeKind, CompareResult } from './compare.js';
import { flagsWords } from './entry-text.js';
import { VirtualGrid } from './virtual-grid.js';

const KIND_LABELS: Record<ChangeKind, string> = { 'only-a': 'only in A', 'only-b': 'only in B', changed: 'path changed' };

export function renderCompare(target: HTMLElement, result: CompareResult, nameA: string, nameB: string): void {
  const rows = result.rows;
  const grid = new VirtualGrid({
    label: `Differences between ${nameA} and ${nameB}`,
    emptyText: 'The two caches list the same entries with the same paths.',
    columns: [
      { id: 'kind', label: 'Change', width: '8.5rem', text: (item) => KIND_LABELS[rows[item]!.kind] },
      { id: 'name', label: 'Name', width: 'minmax(0, 1fr)', mono: true, text: (item) => rows[item]!.name },
      { id: 'flags', label: 'Flags', width: '9rem', mono: true, text: (item) => flagsWords(rows[item]!.flags) },
      { id: 'hwcap', label: 'hwcap', width: 'minmax(4rem, 0.3fr)', mono: true, text: (item) => rows[item]!.hwcap },
      { id: 'a', label: 'Path in A', width: 'minmax(0, 1.5fr)', mono: true, text: (item) => rows[item]!.pathsA.join('  ·  ') },
      { id: 'b', label: 'Path in B', width: 'minmax(0, 1.5fr)', mono: true, text: (item) => rows[item]!.pathsB.join('  ·  ') },
    ],
    rowAttributes: (item) => ({ 'data-change': rows[item]!.kind }),
  });
  grid.element.dataset.testid = 'compare-grid';

  const all = rows.map((_, i) => i);
  const filterButtons: HTMLButtonElement[] = [];
  const filterButton = (kind: ChangeKind | 'all', label: string, count: number) => {
    const button = h(
      'button',
      { type: 'button', class: `filter-chip kind-${kind}`, 'aria-pressed': String(kind === 'all'), 'data-testid': `compare-${kind}` },
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
          filterButton('only-a', 'only in A', result.counts['only-a']),
          filterButton('only-b', 'only in B', result.counts['only-b']),
          filterButton('changed', 'path changed', result.counts.changed),
        ),
        h('span', { class: 'muted' }, `${result.unchanged.toLocaleString('en-US')} unchanged`),
      ),
      grid.element,
    ),
  );
  grid.setItems(all);
}
