// `ldcache-dump --json` / `--ndjson`: loaded only when asked, to keep the default start fast.
import { cacheToJSON, entryToJSON } from '../core/json.js';
import type { LdCache } from '../core/types.js';

/** One document (the file, the header facts, every entry) or one entry object per line. */
export function renderJson(cache: LdCache, file: string, mode: 'json' | 'ndjson'): string {
  if (mode === 'json') return `${JSON.stringify({ file, ...cacheToJSON(cache) }, null, 2)}\n`;
  let out = '';
  for (const entry of cache) out += `${JSON.stringify(entryToJSON(entry))}\n`;
  return out;
}
