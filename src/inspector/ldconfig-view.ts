// The `ldconfig -p` tab: the exact text glibc 2.36 prints for this cache, built only when the tab
// is first opened (it is megabytes at 200k entries), in a read-only textarea that the browser
// scrolls and selects natively, with a download of the same text.
import { formatLdconfig } from '../core/format-ldconfig.js';
import type { LdCache } from '../core/types.js';
import { downloadBlob, h } from './dom.js';

export function renderLdconfigText(target: HTMLElement, cache: LdCache, fileName: string): void {
  const text = formatLdconfig(cache, fileName);
  const area = h('textarea', {
    class: 'ldconfig-text mono',
    readonly: true,
    spellcheck: 'false',
    wrap: 'off',
    'aria-label': `ldconfig -p output for ${fileName}`,
    'data-testid': 'ldconfig-text',
  });
  area.value = text;
  const download = h('button', { type: 'button', class: 'button' }, 'Download text');
  download.addEventListener('click', () => downloadBlob(new Blob([text], { type: 'text/plain' }), `${fileName}.ldconfig-p.txt`));
  target.replaceChildren(
    h(
      'div',
      { class: 'text-view' },
      h('div', { class: 'toolbar' }, h('span', { class: 'muted' }, 'What ', h('code', {}, `ldconfig -p -C ${fileName}`), ' prints (glibc 2.36), byte for byte.'), h('span', { class: 'tab-spacer' }), download),
      area,
    ),
  );
}
