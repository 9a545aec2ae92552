// The overview strip: the `ldconfig -p` summary line, layout, byte order, generator, counts by
// architecture and type, and the glibc-hwcaps directories.
import type { LdCache } from '../core/types.js';
import { h, plural } from './dom.js';
import type { CacheStats } from './cache-stats.js';

const MAGICS: Record<string, string> = {
  old: 'ld.so-1.7.0',
  new: 'glibc-ld.so.cache1.1',
  compat: 'ld.so-1.7.0 + glibc-ld.so.cache1.1',
};

export interface OverviewInput {
  readonly cache: LdCache;
  readonly fileName: string;
  readonly fileSize: number;
  readonly parseMs: number;
}

export function renderOverview(target: HTMLElement, { cache, fileName, fileSize, parseMs }: OverviewInput, stats: CacheStats): void {
  const cardOf = (className: string, label: string, ...value: (Node | string | null)[]) =>
    h('div', { class: className }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, ...value));
  const card = (label: string, ...value: (Node | string | null)[]) => cardOf('card', label, ...value);
  const wideCard = (label: string, ...value: (Node | string | null)[]) => cardOf('card wide', label, ...value);
  const chips = (counts: [string, number][], testid: string) =>
    counts.length === 0
      ? h('span', { class: 'muted' }, 'none')
      : h('ul', { class: 'chips', 'data-testid': testid }, ...counts.map(([key, count]) => h('li', { class: 'chip' }, h('span', { class: 'mono' }, key), ' ', h('b', {}, count.toLocaleString('en-US')))));

  const hwcapDirs = cache.hwcapDirs.length
    ? h('ul', { class: 'chips', 'data-testid': 'hwcap-dirs' }, ...cache.hwcapDirs.map((dir) => h('li', { class: 'chip mono' }, dir)))
    : h('span', { class: 'muted', 'data-testid': 'hwcap-dirs' }, 'none');

  target.replaceChildren(
    h(
      'div',
      { class: 'summary-line' },
      // Exactly what `ldconfig -p` counts: the header's count, duplicates included.
      h('strong', { 'data-testid': 'summary' }, `${cache.count} libs found in cache`),
      h('span', { class: 'muted' }, ` · ${fileName} · ${plural(fileSize, 'byte')} · parsed in ${parseMs < 10 ? parseMs.toFixed(1) : Math.round(parseMs)} ms`),
    ),
    h(
      'div',
      { class: 'cards' },
      card('Layout', h('span', { 'data-testid': 'layout' }, h('b', {}, cache.format), ' ', h('span', { class: 'muted mono small block', title: MAGICS[cache.format] }, MAGICS[cache.format] ?? ''))),
      card('Byte order', h('span', { 'data-testid': 'byte-order' }, cache.byteOrder === 'little' ? 'little-endian' : 'big-endian')),
      wideCard('Generator', cache.generator !== undefined ? h('span', { class: 'mono', 'data-testid': 'generator' }, cache.generator || '(empty)') : h('span', { class: 'muted', 'data-testid': 'generator' }, 'not recorded')),
      wideCard('Architectures', chips(stats.arch, 'arch-counts')),
      card('Types', chips(stats.type, 'type-counts')),
      card('glibc-hwcaps', hwcapDirs),
    ),
  );
}
