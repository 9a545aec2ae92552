// A virtualized ARIA grid on a real table: only the rows in view (plus a few) exist in the DOM,
// and a spacer gives the scroll height, so 200,000 rows scroll as smoothly as 20. Rows are
// identified by "items" (numbers the owner maps to data); the owner decides order and filtering.
import { h } from './dom.js';

export const ROW_HEIGHT = 24;
const OVERSCAN = 8;

export type SortDirection = 'ascending' | 'descending';

export interface GridColumn {
  readonly id: string;
  readonly label: string;
  /** CSS grid track size, e.g. `minmax(12rem, 1fr)`. */
  readonly width: string;
  readonly mono?: boolean;
  readonly sortable?: boolean;
  text(item: number): string;
  /** Lower-case text to mark (`<mark>`) wherever it occurs in a cell, case-insensitively; '' for none. */
  highlight?(): string;
}

/** Sets a cell's text, each occurrence of `needle` (lower case) in a `<mark>`; textContent stays `text`. */
function fillCell(cell: HTMLElement, text: string, needle: string): void {
  const lower = text.toLowerCase();
  // Case folding that changes the length (rare: 'İ') would misplace the marks: show the text plain.
  if (!needle || lower.length !== text.length || !lower.includes(needle)) {
    cell.textContent = text;
    return;
  }
  const parts: Node[] = [];
  let at = 0;
  for (let found = lower.indexOf(needle); found >= 0; found = lower.indexOf(needle, at)) {
    if (found > at) parts.push(document.createTextNode(text.slice(at, found)));
    parts.push(h('mark', {}, text.slice(found, found + needle.length)));
    at = found + needle.length;
  }
  if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
  cell.replaceChildren(...parts);
}

export interface GridOptions {
  readonly label: string;
  readonly columns: readonly GridColumn[];
  readonly emptyText: string;
  /** Extra attributes for an item's row (e.g. `data-nvidia`), or undefined. */
  rowAttributes?(item: number): Record<string, string> | undefined;
  onSort?(column: string, direction: SortDirection | undefined): void;
  onSelect?(item: number | undefined): void;
}

let gridCount = 0;

export class VirtualGrid {
  /** The table (role grid): focusable, it takes the arrow keys. */
  readonly element: HTMLTableElement;
  /** The scrolling body; its ::before pseudo-element is the spacer that gives the scroll height. */
  private readonly body: HTMLTableSectionElement;
  private readonly headers = new Map<string, HTMLElement>();
  private readonly idPrefix = `grid${++gridCount}`;
  private readonly rowPool: HTMLTableRowElement[] = [];
  private readonly extraAttributeNames = new Set<string>();
  private items: ArrayLike<number> = [];
  private selected = -1; // position in `items`
  private sort: { column: string; direction: SortDirection } | undefined;
  private frame = 0;

  constructor(private readonly options: GridOptions) {
    const columns = options.columns.map((column) => column.width).join(' ');
    const headRow = h('tr', { class: 'grid-row', role: 'row', 'aria-rowindex': 1 });
    for (const column of options.columns) headRow.append(this.headerCell(column));
    const head = h('thead', { class: 'grid-head', role: 'rowgroup' }, headRow);
    this.body = h('tbody', { class: 'grid-body', role: 'rowgroup', 'data-empty-text': options.emptyText });
    this.element = h(
      'table',
      { class: 'grid', role: 'grid', 'aria-label': options.label, 'aria-colcount': options.columns.length, tabindex: 0 },
      head,
      this.body,
    );
    this.element.style.setProperty('--grid-columns', columns);
    this.element.style.setProperty('--row-height', `${ROW_HEIGHT}px`);

    this.body.addEventListener('scroll', () => this.scheduleRender(), { passive: true });
    new ResizeObserver(() => this.scheduleRender()).observe(this.body);
    this.element.addEventListener('keydown', (event) => this.onKey(event));
    this.body.addEventListener('click', (event) => {
      const row = (event.target as Element).closest<HTMLElement>('tr');
      if (!row?.dataset.position) return;
      this.select(Number(row.dataset.position));
      this.element.focus({ preventScroll: true });
    });
  }

  /** Replaces the rows; keeps the selected item selected when it is still there. */
  setItems(items: ArrayLike<number>): void {
    const selectedItem = this.selectedItem();
    this.items = items;
    this.selected = -1;
    if (selectedItem !== undefined) {
      for (let position = 0; position < items.length; position++) {
        if (items[position] === selectedItem) {
          this.selected = position;
          break;
        }
      }
    }
    this.element.setAttribute('aria-rowcount', String(items.length + 1));
    this.element.style.setProperty('--grid-height', `${items.length * ROW_HEIGHT}px`);
    if (this.selected >= 0) this.scrollToPosition(this.selected);
    else this.body.scrollTop = 0;
    this.options.onSelect?.(this.selectedItem());
    this.render();
  }

  get length(): number {
    return this.items.length;
  }

  selectedItem(): number | undefined {
    return this.selected >= 0 && this.selected < this.items.length ? this.items[this.selected] : undefined;
  }

  /** Shows which column the rows are sorted by (the owner did the sorting). */
  showSort(column: string | undefined, direction?: SortDirection): void {
    this.sort = column && direction ? { column, direction } : undefined;
    for (const [id, header] of this.headers) {
      if (header.dataset.sortable === undefined) continue;
      header.setAttribute('aria-sort', this.sort?.column === id ? this.sort.direction : 'none');
    }
  }

  /** Re-renders visible rows (after data they show changed). */
  refresh(): void {
    this.render();
  }

  private headerCell(column: GridColumn): HTMLElement {
    const cell = h('th', { class: 'grid-cell', role: 'columnheader', scope: 'col' });
    if (column.sortable) {
      cell.dataset.sortable = '';
      cell.setAttribute('aria-sort', 'none');
      const button = h('button', { type: 'button', class: 'sort-button' }, column.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }));
      button.addEventListener('click', () => this.cycleSort(column.id));
      cell.append(button);
    } else {
      cell.append(column.label);
    }
    this.headers.set(column.id, cell);
    return cell;
  }

  private cycleSort(column: string): void {
    let direction: SortDirection | undefined = 'ascending';
    if (this.sort?.column === column) direction = this.sort.direction === 'ascending' ? 'descending' : undefined;
    this.showSort(direction ? column : undefined, direction);
    this.options.onSort?.(column, direction);
  }

  private select(position: number): void {
    if (this.items.length === 0) return;
    this.selected = Math.max(0, Math.min(this.items.length - 1, position));
    this.scrollToPosition(this.selected);
    this.render();
    this.options.onSelect?.(this.selectedItem());
  }

  private pageRows(): number {
    return Math.max(1, Math.floor(this.body.clientHeight / ROW_HEIGHT) - 1);
  }

  private onKey(event: KeyboardEvent): void {
    if (event.target !== this.element || event.altKey || event.ctrlKey || event.metaKey) return;
    const current = this.selected < 0 ? -1 : this.selected;
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: Math.max(0, current - 1),
      PageDown: current + this.pageRows(),
      PageUp: current - this.pageRows(),
      Home: 0,
      End: this.items.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    this.select(target);
  }

  private scrollToPosition(position: number): void {
    const top = position * ROW_HEIGHT;
    const view = this.body.clientHeight;
    if (top < this.body.scrollTop) this.body.scrollTop = top;
    else if (top + ROW_HEIGHT > this.body.scrollTop + view) this.body.scrollTop = top + ROW_HEIGHT - view;
  }

  private scheduleRender(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const total = this.items.length;
    // Before the first layout clientHeight is 0: render a screenful anyway.
    const view = this.body.clientHeight || 800;
    const first = Math.max(0, Math.floor(this.body.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, Math.ceil((this.body.scrollTop + view) / ROW_HEIGHT) + OVERSCAN);
    const count = Math.max(0, last - first);
    while (this.rowPool.length < count) this.rowPool.push(this.newRow());
    for (let i = 0; i < count; i++) this.fillRow(this.rowPool[i]!, first + i);
    this.body.replaceChildren(...this.rowPool.slice(0, count));
    const active = this.selected >= first && this.selected < last;
    if (active) this.element.setAttribute('aria-activedescendant', `${this.idPrefix}-r${this.selected}`);
    else this.element.removeAttribute('aria-activedescendant');
  }

  private newRow(): HTMLTableRowElement {
    const row = h('tr', { class: 'grid-row', role: 'row' });
    for (const column of this.options.columns) {
      row.append(h('td', { class: column.mono ? 'grid-cell mono' : 'grid-cell', role: 'gridcell' }));
    }
    return row;
  }

  private fillRow(row: HTMLTableRowElement, position: number): void {
    const item = this.items[position]!;
    row.id = `${this.idPrefix}-r${position}`;
    row.style.transform = `translateY(${position * ROW_HEIGHT}px)`;
    // Stripes by position, not by DOM order (rows are reused as the view scrolls).
    row.classList.toggle('odd', position % 2 === 1);
    row.dataset.position = String(position);
    row.setAttribute('aria-rowindex', String(position + 2));
    row.setAttribute('aria-selected', String(position === this.selected));
    const cells = row.children;
    this.options.columns.forEach((column, index) => {
      const cell = cells[index] as HTMLElement;
      const text = column.text(item);
      const needle = column.highlight?.() ?? '';
      if (cell.textContent !== text || (cell.dataset.marked ?? '') !== needle) {
        fillCell(cell, text, needle);
        if (needle) cell.dataset.marked = needle;
        else delete cell.dataset.marked;
        cell.title = text;
      }
    });
    const extra = this.options.rowAttributes?.(item);
    for (const name of this.extraAttributeNames) if (!extra || !(name in extra)) row.removeAttribute(name);
    if (extra) {
      for (const [name, value] of Object.entries(extra)) {
        this.extraAttributeNames.add(name);
        row.setAttribute(name, value);
      }
    }
  }
}
