// The inspector page: pick or drop one cache to inspect it, or two to compare them. Everything
// runs in the page (the wasm core is inlined); nothing is fetched or sent.
import { cacheJSONChunks } from '../core/json.js';
import { cacheStats } from './cache-stats.js';
import { compareCaches } from './compare.js';
import { renderCompare } from './compare-view.js';
import { byId, downloadBlob, h } from './dom.js';
import { EntriesView } from './entries-view.js';
import { renderLdconfigText } from './ldconfig-view.js';
import { loadCacheFile, LoadError, type LoadedCache } from './load-cache.js';
import { classifyForView } from './nvidia-status.js';
import { renderNvidia } from './nvidia-view.js';
import { renderOverview } from './overview.js';
import { Tabs } from './tabs.js';
import { hideImageTab, openImage } from './image-hook.js';

const fileInput = byId<HTMLInputElement>('file-input');
const errorBox = byId('error');
const welcome = byId('welcome');
const report = byId('report');
const fileNames = byId('file-names');
const tabs = new Tabs(report.querySelector<HTMLElement>('[role="tablist"]')!);

let loadGeneration = 0;
let shown: { primary: LoadedCache; entries: EntriesView } | undefined;

function setState(state: 'empty' | 'loading' | 'ready' | 'error'): void {
  document.body.dataset.state = state;
}

function showError(message: string, heading = 'Cannot read this cache. '): void {
  errorBox.replaceChildren(h('strong', {}, heading), message);
  errorBox.hidden = false;
}

async function openFiles(files: readonly File[]): Promise<void> {
  if (files.length === 0) return;
  const generation = ++loadGeneration;
  performance.clearMarks();
  performance.mark('ldcache:chosen');
  setState('loading');
  errorBox.hidden = true;
  // A saved image (with a host's discovery JSON beside it): its cache and the Image tab.
  let image;
  try {
    image = await openImage(files);
  } catch (err) {
    if (generation !== loadGeneration) return;
    showError(err instanceof LoadError ? err.message : String(err), 'Cannot read this image. ');
    setState(shown ? 'ready' : 'error');
    return;
  }
  if (image) {
    if (generation !== loadGeneration) return;
    show([image.loaded]);
    image.showFindings();
    tabs.show('image');
    setState('ready');
    return;
  }
  hideImageTab();
  const chosen = files.slice(0, 2);
  // One at a time: both parses share the core's single input region. A file that cannot be read
  // never costs what is already readable: a damaged B leaves A's report; a damaged file dropped
  // on an open report leaves that report.
  const loaded: LoadedCache[] = [];
  let failure: { file: File; message: string } | undefined;
  for (const file of chosen) {
    try {
      loaded.push(await loadCacheFile(file));
    } catch (err) {
      failure = { file, message: err instanceof LoadError ? err.message : String(err) };
      break;
    }
  }
  if (generation !== loadGeneration) return;
  if (loaded.length === 0) {
    if (shown) {
      setState('ready');
      showError(`${failure!.message} (still showing ${shown.primary.fileName})`);
      return;
    }
    report.hidden = true;
    welcome.hidden = false;
    fileNames.textContent = '';
    showError(failure!.message);
    setState('error');
    return;
  }
  performance.mark('ldcache:parsed');
  show(loaded);
  setState('ready');
  // Marks for measurement: `ready` = summary and first rows in the DOM; `painted` = after the
  // frame that shows them.
  performance.mark('ldcache:ready');
  requestAnimationFrame(() => setTimeout(() => performance.mark('ldcache:painted'), 0));
  if (failure) showError(`${failure.message} (showing ${loaded[0]!.fileName} alone)`, 'Cannot compare: ');
  else if (files.length > 2) showError(`${files.length} files were chosen; comparing the first two (${chosen.map((f) => f.name).join(', ')}).`, 'Note: ');
}

function show(loaded: LoadedCache[]): void {
  const primary = loaded[0]!;
  const secondary = loaded[1];
  const stats = cacheStats(primary.cache);
  const nvidia = classifyForView(primary.cache, stats.nvidiaCandidates);
  const entries = new EntriesView(primary.cache, stats, {
    nvidiaStatus: (index) => nvidia.statusOf(index),
    nvidiaCount: nvidia.count,
    nvidiaStrays: nvidia.rows.filter((row) => row.status === 'stray').length,
    nvidiaUnknown: nvidia.rows.filter((row) => row.status === 'unversioned').length,
  });
  shown = { primary, entries };

  fileNames.replaceChildren(
    ...(secondary
      ? [h('span', { class: 'file-tag' }, h('b', {}, 'A '), primary.fileName), h('span', { class: 'file-tag' }, h('b', {}, 'B '), secondary.fileName)]
      : [h('span', { class: 'file-tag' }, primary.fileName)]),
  );
  renderOverview(byId('overview'), primary, stats);
  document.title = `${secondary ? `${primary.fileName} vs ${secondary.fileName}` : primary.fileName} · ld.so.cache inspector`;
  welcome.hidden = true;
  report.hidden = false;
  byId('panel-entries').replaceChildren(entries.element);
  byId('panel-nvidia').replaceChildren();
  byId('panel-text').replaceChildren();
  byId('panel-compare').replaceChildren();
  byId('tab-nvidia').textContent = nvidia.count > 0 ? `NVIDIA (${nvidia.count})` : 'NVIDIA';

  tabs.setAvailable('compare', secondary !== undefined);
  tabs.show(secondary ? 'compare' : 'entries');
  // Ready for the keyboard at once: ↑ ↓ PgUp PgDn Home End move through the entries.
  if (!secondary) entries.focusTable();
  tabs.onFirstShow('nvidia', () => renderNvidia(byId('panel-nvidia'), primary.cache, nvidia));
  tabs.onFirstShow('text', () => renderLdconfigText(byId('panel-text'), primary.cache, primary.fileName));
  if (secondary) {
    tabs.onFirstShow('compare', () => renderCompare(byId('panel-compare'), compareCaches(primary.cache, secondary.cache), primary.fileName, secondary.fileName));
  }
}

fileInput.addEventListener('change', () => {
  void openFiles([...(fileInput.files ?? [])]).finally(() => {
    // Choosing the same file again must fire `change` again.
    fileInput.value = '';
  });
});

const jsonButton = byId<HTMLButtonElement>('download-json');
jsonButton.addEventListener('click', () => {
  const current = shown;
  if (!current) return;
  // A big cache takes a moment: say so, and let the page paint that before the work starts.
  jsonButton.disabled = true;
  jsonButton.textContent = 'Preparing JSON…';
  setTimeout(() => {
    try {
      // The core writes the text (what ldcache-dump --json writes); each chunk is a view of wasm
      // memory until the next, so the Blob gets a copy.
      const parts: BlobPart[] = [];
      for (const chunk of cacheJSONChunks(current.primary.cache, { file: current.primary.fileName })) parts.push(chunk.slice());
      downloadBlob(new Blob(parts, { type: 'application/json' }), `${current.primary.fileName}.json`);
    } finally {
      jsonButton.disabled = false;
      jsonButton.textContent = 'Download JSON';
    }
  }, 20);
});

// `/` focuses the search from anywhere but a text field.
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || !shown) return;
  const target = event.target as HTMLElement;
  if (target.closest('input, textarea, select, [contenteditable]')) return;
  event.preventDefault();
  tabs.show('entries');
  shown.entries.focusSearch();
});

// Drag and drop anywhere on the page.
const overlay = byId('drop-overlay');
let dragDepth = 0;
const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
document.addEventListener('dragenter', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  dragDepth++;
  overlay.classList.add('visible');
});
document.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer!.dropEffect = 'copy';
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) overlay.classList.remove('visible');
});
document.addEventListener('drop', (event) => {
  event.preventDefault();
  dragDepth = 0;
  overlay.classList.remove('visible');
  void openFiles([...(event.dataTransfer?.files ?? [])]);
});
