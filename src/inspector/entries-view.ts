// The entries tab: search, architecture and hwcap filters, the sortable virtualized table and a
// line of details for the selected entry.
import type { LdCache } from '../core/types.js';
import { h, plural } from './dom.js';
import { entryAt, LEGACY_HWCAP, NO_HWCAP, type CacheStats } from './cache-stats.js';
import { EntryIndex, type EntryColumn, type EntryQuery } from './entry-query.js';
import { flagsWords, hex32, hwcapHex, hwcapText, osAbiText } from './entry-text.js';
import { VirtualGrid } from './virtual-grid.js';

export interface EntriesViewOptions {
  /** `data-nvidia` value for an entry (`driver`, `stray`, …), or undefined for other entries. */
  nvidiaStatus(index: number): string | undefined;
  /** How many entries are NVIDIA driver libraries (offers a filter and a colour legend when > 0). */
  nvidiaCount: number;
  /** Of those, how many are strays of another driver version and how many of unknown version. */
  nvidiaStrays?: number;
  nvidiaUnknown?: number;
}

/** The NVIDIA filter's label: what it shows, and how many of those are not the driver's. */
function nvidiaLabel(options: EntriesViewOptions): string {
  const strays = options.nvidiaStrays ?? 0;
  const unknown = options.nvidiaUnknown ?? 0;
  const others = [strays && `${strays.toLocaleString('en-US')} stray`, unknown && `${unknown.toLocaleString('en-US')} version unknown`].filter(Boolean);
  return ` NVIDIA libraries only (${options.nvidiaCount.toLocaleString('en-US')}${others.length ? `, of which ${others.join(', ')}` : ''})`;
}

export class EntriesView {
  readonly element: HTMLElement;
  readonly search: HTMLInputElement;
  private readonly index: EntryIndex;
  private readonly grid: VirtualGrid;
  private readonly archFilter: HTMLSelectElement;
  private readonly hwcapFilter: HTMLSelectElement;
  private readonly nvidiaFilter: HTMLInputElement;
  private readonly shown: HTMLElement;
  private readonly details: HTMLElement;
  private query: EntryQuery = { search: '', arch: '', hwcap: '' };
  private searchTimer = 0;

  constructor(
    private readonly cache: LdCache,
    stats: CacheStats,
    private readonly options: EntriesViewOptions,
  ) {
    this.index = new EntryIndex(cache, stats);
    this.search = h('input', {
      type: 'search',
      id: 'entry-search',
      class: 'search',
      placeholder: 'Search names and paths  ( / )',
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-keyshortcuts': '/',
    });
    this.archFilter = h('select', { id: 'arch-filter' }, h('option', { value: '' }, 'All architectures'));
    for (const [arch, count] of stats.arch) {
      this.archFilter.append(h('option', { value: arch }, `${arch} (${count.toLocaleString('en-US')})`));
    }
    this.hwcapFilter = h('select', { id: 'hwcap-filter' }, h('option', { value: '' }, 'Any hwcap'));
    for (const [value, count] of stats.hwcap) {
      const label = value === NO_HWCAP ? 'No hwcap' : value === LEGACY_HWCAP ? 'Legacy hwcap bits' : `glibc-hwcaps/${value}`;
      this.hwcapFilter.append(h('option', { value }, `${label} (${count.toLocaleString('en-US')})`));
    }
    this.nvidiaFilter = h('input', { type: 'checkbox', id: 'nvidia-filter' });
    this.shown = h('span', { class: 'shown-count', 'aria-live': 'polite', 'data-testid': 'shown-count' });

    const entry = (item: number) => entryAt(cache, item);
    this.grid = new VirtualGrid({
      label: 'Cache entries',
      emptyText: 'No entry matches the filters.',
      columns: [
        { id: 'index', label: '#', width: '4.5rem', sortable: true, text: (item) => String(item) },
        { id: 'name', label: 'Name', width: 'minmax(0, 1.1fr)', mono: true, sortable: true, text: (item) => entry(item).name, highlight: () => this.needle() },
        { id: 'flags', label: 'Flags', width: '9rem', mono: true, sortable: true, text: (item) => flagsWords(entry(item).flags) },
        { id: 'hwcap', label: 'hwcap', width: 'minmax(5rem, 0.45fr)', mono: true, sortable: true, text: (item) => hwcapText(entry(item)) },
        { id: 'path', label: 'Path', width: 'minmax(0, 2fr)', mono: true, sortable: true, text: (item) => entry(item).path, highlight: () => this.needle() },
      ],
      rowAttributes: (item) => {
        const status = options.nvidiaStatus(item);
        return status ? { 'data-nvidia': status } : undefined;
      },
      onSort: (column, direction) => this.update({ sort: direction ? { column: column as EntryColumn, direction } : undefined }),
      onSelect: (item) => this.showDetails(item),
    });
    this.grid.element.dataset.testid = 'entries-grid';

    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      // Short debounce: one filter pass per pause in typing, not per key, at 200k entries.
      this.searchTimer = window.setTimeout(() => this.update({ search: this.search.value }), cache.count > 20_000 ? 120 : 0);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown' || event.key === 'Enter') {
        event.preventDefault();
        this.grid.element.focus();
      }
    });
    this.archFilter.addEventListener('change', () => this.update({ arch: this.archFilter.value }));
    this.hwcapFilter.addEventListener('change', () => this.update({ hwcap: this.hwcapFilter.value }));
    this.nvidiaFilter.addEventListener('change', () => this.update({ only: this.nvidiaFilter.checked ? (item) => options.nvidiaStatus(item) !== undefined : undefined }));

    this.details = h('div', { class: 'details', 'aria-live': 'polite', 'data-testid': 'details' });
    const toolbar = h(
      'div',
      { class: 'toolbar' },
      h('label', { class: 'visually-hidden', for: 'entry-search' }, 'Search entries'),
      this.search,
      h('label', { class: 'visually-hidden', for: 'arch-filter' }, 'Architecture'),
      this.archFilter,
      h('label', { class: 'visually-hidden', for: 'hwcap-filter' }, 'hwcap'),
      this.hwcapFilter,
      options.nvidiaCount > 0 ? h('label', { class: 'check', 'data-testid': 'nvidia-filter-label' }, this.nvidiaFilter, nvidiaLabel(options)) : null,
      options.nvidiaCount > 0
        ? h('span', { class: 'legend', 'aria-hidden': 'true' }, h('span', { class: 'swatch driver' }), 'driver', h('span', { class: 'swatch stray' }), 'stray', h('span', { class: 'swatch unversioned' }), 'version unknown')
        : null,
      this.shown,
    );
    this.element = h('div', { class: 'entries-view' }, toolbar, this.grid.element, this.details);
    this.update({});
  }

  /** What the search matches (as EntryIndex compares it), for the marks in the name and path cells. */
  private needle(): string {
    return this.query.search.trim().toLowerCase();
  }

  /** Puts the keyboard on the table (arrow keys move the selection from there). */
  focusTable(): void {
    this.grid.element.focus({ preventScroll: true });
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  private update(change: Partial<EntryQuery>): void {
    this.query = { ...this.query, ...change };
    const rows = this.index.run(this.query);
    this.grid.setItems(rows);
    const total = this.cache.count;
    this.shown.textContent = rows.length === total ? plural(total, 'entry', 'entries') : `${rows.length.toLocaleString('en-US')} of ${plural(total, 'entry', 'entries')}`;
  }

  private showDetails(item: number | undefined): void {
    if (item === undefined) {
      this.details.replaceChildren(h('span', { class: 'muted' }, 'Select a row (click, or ↑ ↓ PgUp PgDn Home End in the table) to see every field.'));
      return;
    }
    const entry = entryAt(this.cache, item);
    const fact = (label: string, value: string) => h('span', { class: 'fact' }, h('span', { class: 'fact-label' }, label), ' ', h('span', { class: 'mono' }, value));
    const nvidia = this.options.nvidiaStatus(item);
    const facts = [
      h('span', { class: 'fact mono wide-fact' }, entry.name, h('span', { class: 'muted' }, ' => '), entry.path),
      fact('entry', `#${entry.index}`),
      fact('flags', `${hex32(entry.flags)} (${flagsWords(entry.flags)})`),
      fact('arch', `${entry.arch}${entry.bits ? `, ${entry.bits}-bit` : ''}`),
      entry.hwcap !== 0n ? fact('hwcap', `${hwcapHex(entry.hwcap)}${entry.hwcapName ? ` = ${entry.hwcapName}` : ''}`) : null,
      entry.osVersion !== 0 ? fact('OS ABI', osAbiText(entry.osVersion)) : null,
      nvidia ? fact('NVIDIA', nvidia === 'unversioned' ? 'driver library, version unknown' : nvidia) : null,
      fact('name at byte', String(entry.nameOffset)),
      fact('path at byte', String(entry.pathOffset)),
    ];
    this.details.replaceChildren(...facts.filter((node): node is HTMLSpanElement => node !== null));
  }
}

