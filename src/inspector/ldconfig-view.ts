// The `ldconfig -p` tab: the exact text glibc 2.36 prints for this cache, built only when the tab
// is first opened. Up to TEXTAREA_LINES lines it sits in a read-only textarea (native select,
// copy and find); beyond, a textarea of megabytes takes seconds to lay out, so the lines are
// virtualized. Either way the download button gives the exact bytes (names may not be UTF-8).
import { formatLdconfigBytes } from '../core/format-ldconfig.js';
import type { LdCache } from '../core/types.js';
import { downloadBlob, h } from './dom.js';
import { VirtualGrid } from './virtual-grid.js';

const TEXTAREA_LINES = 20_000;

export function renderLdconfigText(target: HTMLElement, cache: LdCache, fileName: string): void {
  const bytes = formatLdconfigBytes(cache, fileName);
  const text = new TextDecoder().decode(bytes);
  const download = h('button', { type: 'button', class: 'button', 'data-testid': 'ldconfig-download' }, 'Download text');
  download.addEventListener('click', () => downloadBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'text/plain' }), `${fileName}.ldconfig-p.txt`));
  const label = `ldconfig -p output for ${fileName}`;

  let body: HTMLElement;
  const virtualized = cache.count >= TEXTAREA_LINES;
  if (!virtualized) {
    const area = h('textarea', { class: 'ldconfig-text mono', readonly: true, spellcheck: 'false', wrap: 'off', 'aria-label': label, 'data-testid': 'ldconfig-text' });
    area.value = text;
    body = area;
  } else {
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const grid = new VirtualGrid({
      label,
      emptyText: '',
      columns: [{ id: 'line', label: `${lines.length.toLocaleString('en-US')} lines`, width: 'minmax(0, 1fr)', mono: true, text: (item) => lines[item]! }],
    });
    grid.element.classList.add('ldconfig-lines');
    grid.element.dataset.testid = 'ldconfig-lines';
    grid.setItems(Uint32Array.from({ length: lines.length }, (_, i) => i));
    body = grid.element;
  }
  target.replaceChildren(
    h(
      'div',
      { class: 'text-view' },
      h(
        'div',
        { class: 'toolbar' },
        h(
          'span',
          { class: 'muted' },
          'What ',
          h('code', {}, `ldconfig -p -C ${fileName}`),
          ' prints (glibc 2.36), byte for byte.',
          virtualized ? ' Only the lines in view are drawn: download the text to search or copy all of it.' : '',
        ),
        h('span', { class: 'tab-spacer' }),
        download,
      ),
      body,
    ),
  );
}

