// What an image's glibc dynamic linker does with a soname, predicted offline from the merged
// layer tree plus the files a container engine would mount into it (container-images.md §4):
// LD_LIBRARY_PATH (each element with its glibc-hwcaps subdirectories first, glibc >= 2.33, then
// for glibc < 2.37 the legacy hwcaps subdirectories `tls/`, `haswell/`, `x86_64/`, … as
// _dl_important_hwcaps builds them), then the image's own ld.so.cache (flags of the ABI, hwcaps
// entries by priority, legacy hwcap-bit entries where glibc < 2.37 accepts them, only the first
// answer is tried), then the default directories compiled into the image's ld.so (with the same
// subdirectories). A candidate of the wrong ELF class is skipped as the loader skips it.
// Browser-safe.
import { legacyCacheAccepts, type AbiRules, type LegacyHwcaps } from './abi-rules.js';
import { ContainerView, elfBits, type Found, type MountedFile } from './container-view.js';
import type { ImageTree } from './image-tree.js';
import { parseLdCache } from './parse.js';
import { compareVersions } from './nvidia-libraries.js';
import type { LdCache, LdCacheEntry } from './types.js';

const latin1 = new TextDecoder('latin1');

/** The loader's compiled-in default directories (glibc keeps them as one NUL-separated string). */
export function loaderDefaultDirs(loader: Uint8Array): string[] | null {
  const text = latin1.decode(loader);
  const m = /\0((?:\/[A-Za-z0-9_.+-]+(?:\/[A-Za-z0-9_.+-]+)*\/\0){2,8})/.exec(text);
  if (!m) return null;
  const dirs = m[1]!.split('\0').filter(Boolean).map((d) => d.replace(/\/$/, ''));
  return dirs.some((d) => d.includes('lib')) ? dirs : null;
}

/** glibc's release from libc.so.6: its banner, else the newest GLIBC_2.N version it defines. */
export function glibcVersionOf(libc: Uint8Array): string | null {
  const text = latin1.decode(libc);
  const banner = /GNU C Library [^\n\0]*?release version (\d+\.\d+)/.exec(text);
  if (banner) return banner[1]!;
  let best: string | null = null;
  for (const m of text.matchAll(/\0GLIBC_(2\.\d+)(?:\.\d+)?\0/g)) if (best === null || compareVersions(m[1]!, best) > 0) best = m[1]!;
  return best;
}

export interface LinkerFacts {
  /** The real path of the ABI's dynamic linker in the image, or null. */
  loader: string | null;
  /** musl's loader, when the image has one. */
  musl: string | null;
  /** glibc release of the image's libc.so.6 (e.g. `2.36`), or null. */
  glibc: string | null;
  libc: string | null;
  /** Default directories, from the loader itself or assumed (`defaultDirsFrom`). */
  defaultDirs: string[];
  defaultDirsFrom: 'loader' | 'assumed';
  cache: LdCache | null;
  /** Why the cache could not be used, when it exists but is damaged. */
  cacheProblem: string | null;
  /**
   * Where /etc/ld.so.cache leads when it is a file of another name, whose bytes the one pass over
   * the layers does not keep: the loader reads it, this prediction has no cache. Else null.
   */
  cacheUnread: string | null;
  llp: string[];
  llpRaw: string | null;
  /** Distinct LD_LIBRARY_PATH directories past MAX_LLP_DIRS, not searched (0 for any real image). */
  llpDropped: number;
}

/** LD_LIBRARY_PATH directories followed: far above any real image, below what takes minutes to check. */
export const MAX_LLP_DIRS = 1024;

/**
 * LD_LIBRARY_PATH's elements: `:` and `;` separate, an empty element is the current directory (the
 * image's WorkingDir, here /), and a directory already listed is not searched again (glibc's
 * fillin_rpath drops it too; searching it again could not change the answer).
 */
function llpDirs(raw: string | null): { dirs: string[]; dropped: number } {
  if (raw === null || raw === '') return { dirs: [], dropped: 0 };
  const seen = new Set<string>();
  const dirs: string[] = [];
  let dropped = 0;
  for (const element of raw.split(/[:;]/)) {
    const dir = element === '' ? '.' : element;
    if (seen.has(dir)) continue;
    seen.add(dir);
    if (dirs.length < MAX_LLP_DIRS) dirs.push(dir);
    else dropped++;
  }
  return { dirs, dropped };
}

export type Via = 'LD_LIBRARY_PATH' | 'ld.so.cache' | 'default directories';

export interface LinkResult {
  /** The path the loader opens (what `dlinfo`'s l_name reports), or null when nothing is found. */
  path: string | null;
  /** That path with every link resolved. */
  realPath: string | null;
  via: Via | null;
  /** The LD_LIBRARY_PATH element or default directory that matched, or the cache entry `name (flags) => path`. */
  detail: string | null;
  mounted: MountedFile | null;
  /** Candidates skipped (wrong class) and stale cache entries, for evidence. */
  notes: string[];
}

export function imageEnv(env: readonly string[], key: string): string | null {
  let value: string | null = null;
  for (const e of env) if (e.startsWith(`${key}=`)) value = e.slice(key.length + 1);
  return value;
}

/** Everything about the image's linker that does not depend on the mounts. */
export function linkerFacts(tree: ImageTree, env: readonly string[], rules: AbiRules): LinkerFacts {
  const loaderNode = tree.tryResolve(rules.interpreter);
  const loader = loaderNode?.node.kind === 'file' ? loaderNode.path : null;
  let musl: string | null = null;
  for (const dir of ['/lib', '/usr/lib']) {
    for (const name of tree.list(dir) ?? []) {
      if (/^ld-musl-[a-z0-9_]+\.so\.1$/.test(name)) musl ??= `${dir}/${name}`;
    }
  }
  let defaultDirs: string[] | null = null;
  if (loaderNode?.node.kind === 'file' && loaderNode.node.content && !loaderNode.node.partial) defaultDirs = loaderDefaultDirs(loaderNode.node.content);
  const defaultDirsFrom = defaultDirs ? 'loader' : 'assumed';
  if (!defaultDirs) {
    const multi = `/usr/lib/${rules.multiarch}`;
    defaultDirs = tree.tryResolve(multi)?.node.kind === 'dir'
      ? [`/lib/${rules.multiarch}`, multi, '/lib', '/usr/lib']
      : rules.bits === 64 ? ['/lib64', '/usr/lib64'] : ['/lib', '/usr/lib'];
  }
  let cache: LdCache | null = null;
  let cacheProblem: string | null = null;
  const cacheNode = tree.tryResolve('/etc/ld.so.cache');
  let cacheUnread: string | null = null;
  if (cacheNode?.node.kind === 'file') {
    const { content, partial, size } = cacheNode.node;
    if (partial) cacheProblem = 'too large to read';
    else if (!content && size > 0) cacheUnread = cacheNode.path; // a link to a file of another name: not kept
    else {
      try {
        cache = parseLdCache(content ?? new Uint8Array(0));
      } catch (err) {
        cacheProblem = (err as Error).message;
      }
    }
  }
  const llpRaw = imageEnv(env, 'LD_LIBRARY_PATH');
  const { dirs: llp, dropped: llpDropped } = llpDirs(llpRaw);
  const facts: LinkerFacts = { loader, musl, glibc: null, libc: null, defaultDirs, defaultDirsFrom, cache, cacheProblem, cacheUnread, llp, llpRaw, llpDropped };
  const libc = findLibrary(new ContainerView(tree), facts, rules, 'libc.so.6');
  if (libc.realPath) {
    facts.libc = libc.realPath;
    const node = tree.tryResolve(libc.realPath);
    if (node?.node.kind === 'file' && node.node.content && !node.node.partial) facts.glibc = glibcVersionOf(node.node.content);
  }
  return facts;
}

function entryText(e: LdCacheEntry): string {
  return `${e.name} (flags 0x${(e.flags >>> 0).toString(16)}${e.hwcapName ? `, hwcap ${e.hwcapName}` : ''}) => ${e.path}`;
}

/**
 * The cache's answer for `name` as glibc's dl-cache.c gives it (one answer: the loader tries only
 * it). `legacy`: the legacy hwcaps of a glibc < 2.37 loader, which accepts entries ldconfig made
 * from `tls/`, `x86_64/`, `haswell/`, … subdirectories; newer loaders skip them.
 */
export function cacheLookup(cache: LdCache, name: string, rules: AbiRules, legacy: LegacyHwcaps | null = null): LdCacheEntry | null {
  let best: LdCacheEntry | null = null;
  let bestPriority = -1;
  for (const e of cache.entries) {
    if (e.name !== name || !rules.cacheFlags.includes(e.flags & 0xffff)) continue;
    if (e.isHwcapsEntry) {
      const priority = e.hwcapName ? rules.hwcaps.length - rules.hwcaps.indexOf(e.hwcapName) : -1;
      if (e.hwcapName && rules.hwcaps.includes(e.hwcapName) && priority > bestPriority) {
        best = e;
        bestPriority = priority;
      }
      continue;
    }
    if (e.hwcap !== 0n && !(legacy && legacyCacheAccepts(e.hwcap, legacy))) continue; // legacy hwcap bits this loader does not take
    // The first plain entry ends the walk; a hwcaps match found before it wins.
    return best ?? e;
  }
  return best;
}

/** Which subdirectories a loader of glibc `glibc` tries before each directory of a search path. */
export function searchSubdirs(glibc: string | null, rules: AbiRules): string[] {
  const subs: string[] = [];
  // glibc-hwcaps/ since 2.33 (an unknown glibc is taken as a current one).
  if (glibc === null || compareVersions(glibc, '2.33') >= 0) subs.push(...rules.hwcaps.map((h) => `glibc-hwcaps/${h}/`));
  const legacy = legacyOf(glibc, rules);
  if (legacy) subs.push(...legacy.subdirs.map((s) => `${s}/`));
  subs.push('');
  return subs;
}

/** The legacy hwcaps the loader uses: glibc before 2.37 (which removed them), on an ABI modelled here. */
function legacyOf(glibc: string | null, rules: AbiRules): LegacyHwcaps | null {
  return glibc !== null && compareVersions(glibc, '2.37') < 0 ? rules.legacy : null;
}

function searchDirs(view: ContainerView, dirs: string[], name: string, rules: AbiRules, subs: string[], notes: string[]): { path: string; real: string; found: Found; dir: string } | null {
  for (const dir of dirs) {
    for (const sub of subs) {
      const path = `${dir.replace(/\/+$/, '') || ''}/${sub}${name}`;
      const r = view.resolve(path.startsWith('/') ? path : `/${path}`);
      if (!r || r.found.kind !== 'file') continue;
      const bits = elfBits(r.found);
      if (bits !== null && bits !== rules.bits) {
        notes.push(`${path}: ${bits}-bit, skipped by the ${rules.bits}-bit loader`);
        continue;
      }
      if (sub !== '' && !sub.startsWith('glibc-hwcaps/')) notes.push(`${path}: found in the legacy hwcaps subdirectory ${sub} of ${dir}, which glibc before 2.37 searches before ${dir} itself`);
      return { path, real: r.path, found: r.found, dir };
    }
  }
  return null;
}

/** Which file the image's loader opens for `name`, with the engine's mounts in `view`. */
export function findLibrary(view: ContainerView, facts: LinkerFacts, rules: AbiRules, name: string): LinkResult {
  const notes: string[] = [];
  const subs = searchSubdirs(facts.glibc, rules);
  const result = (hit: { path: string; real: string; found: Found; dir: string } | null, via: Via, detail?: string): LinkResult | null =>
    hit ? { path: hit.path, realPath: hit.real, via, detail: detail ?? hit.dir, mounted: hit.found.kind === 'file' ? hit.found.mounted : null, notes } : null;
  const fromLlp = result(searchDirs(view, facts.llp, name, rules, subs, notes), 'LD_LIBRARY_PATH');
  if (fromLlp) return fromLlp;
  if (facts.cache) {
    const entry = cacheLookup(facts.cache, name, rules, legacyOf(facts.glibc, rules));
    if (entry) {
      const r = view.resolve(entry.path);
      if (r && r.found.kind === 'file') {
        return { path: entry.path, realPath: r.path, via: 'ld.so.cache', detail: entryText(entry), mounted: r.found.mounted, notes };
      }
      notes.push(`stale cache entry ${entryText(entry)}: the file is missing; the loader goes on to the default directories`);
    }
  }
  const fromDefaults = result(searchDirs(view, facts.defaultDirs, name, rules, subs, notes), 'default directories');
  if (fromDefaults) return fromDefaults;
  return { path: null, realPath: null, via: null, detail: null, mounted: null, notes };
}
