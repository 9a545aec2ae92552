// What an image's glibc dynamic linker does with a soname, predicted offline from the merged
// layer tree plus the files a container engine would mount into it (container-images.md §4):
// LD_LIBRARY_PATH (each element with its glibc-hwcaps subdirectories first, glibc >= 2.33, then
// for glibc < 2.37 the legacy hwcaps subdirectories `tls/`, `haswell/`, `x86_64/`, … as
// _dl_important_hwcaps builds them), then the image's own ld.so.cache (flags of the ABI, hwcaps
// entries by priority, legacy hwcap-bit entries where glibc < 2.37 accepts them, only the first
// answer is tried), then the default directories compiled into the image's ld.so (with the same
// subdirectories). A candidate of the wrong ELF class is skipped as the loader skips it.
// Browser-safe.
import type { DirNode, FileNode, ImageTree } from './image-tree.js';
import { parseLdCache } from './parse.js';
import { compareVersions } from './nvidia-libraries.js';
import type { LdCache, LdCacheEntry } from './types.js';

/** A driver file as the engine mounts it. */
export interface MountedFile {
  /** Where the file is on the host (or driver root), for evidence. */
  source: string;
  name: string;
  soname: string | null;
  bits: 32 | 64;
  arch: string;
}

/** An engine's changes to the image's file system: files bind-mounted at paths, directories mounted over. */
export interface Overlay {
  files: { containerPath: string; file: MountedFile }[];
  /** Directories whose image contents are hidden by a mount (the v1 volume at /usr/local/nvidia). */
  dirMounts: string[];
}

export type Found =
  | { kind: 'dir'; node: DirNode | null }
  | { kind: 'file'; node: FileNode | null; mounted: MountedFile | null }
  | { kind: 'symlink'; target: string }
  | { kind: 'other' };

const MAX_HOPS = 40;

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** The container's file system as its processes see it: the image tree with the engine's mounts. */
export class ContainerView {
  private readonly mounted = new Map<string, MountedFile>();
  private readonly covered = new Set<string>();
  /** Directories a mount made (runc creates missing mount points and their parents). */
  private readonly made = new Set<string>();

  constructor(readonly tree: ImageTree, overlay: Overlay = { files: [], dirMounts: [] }) {
    for (const dir of overlay.dirMounts) {
      const real = this.placeMount(dir);
      this.covered.add(real);
      this.made.add(real);
    }
    for (const { containerPath, file } of overlay.files) this.mounted.set(this.placeMount(containerPath), file);
  }

  /** Where a mount at `path` lands: its parent resolved inside the container, missing directories made. */
  private placeMount(path: string): string {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let dir = '/';
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const next = join(dir, part);
      if (last) return next;
      const found = this.resolve(next);
      if (found && found.found.kind === 'dir') dir = found.path;
      else {
        this.made.add(next);
        dir = next;
      }
    }
    return dir;
  }

  private coveredBy(path: string): boolean {
    for (const c of this.covered) if (path === c || path.startsWith(`${c}/`)) return true;
    return false;
  }

  /** The entry `name` in the directory at real path `dir`. */
  child(dir: string, dirNode: DirNode | null, name: string): Found | null {
    const path = join(dir, name);
    const file = this.mounted.get(path);
    if (file) return { kind: 'file', node: null, mounted: file };
    if (this.covered.has(path)) return { kind: 'dir', node: null };
    if (this.made.has(path)) {
      const node = dirNode?.children.get(name);
      return { kind: 'dir', node: !this.coveredBy(path) && node?.kind === 'dir' ? node : null };
    }
    if (this.coveredBy(dir)) return null;
    const node = dirNode?.children.get(name);
    if (!node) return null;
    switch (node.kind) {
      case 'dir':
        return { kind: 'dir', node };
      case 'file':
        return { kind: 'file', node, mounted: null };
      case 'symlink':
        return { kind: 'symlink', target: node.target };
      default:
        return { kind: 'other' };
    }
  }

  /** Resolves a path as the kernel would inside the container (links followed, chroot semantics). */
  resolve(path: string): { path: string; found: Found } | null {
    const queue = path.split('/');
    const names: string[] = [];
    const dirs: (DirNode | null)[] = [this.tree.root];
    let found: Found = { kind: 'dir', node: this.tree.root };
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (names.length > 0) {
          names.pop();
          dirs.pop();
        }
        found = { kind: 'dir', node: dirs[dirs.length - 1] ?? null };
        continue;
      }
      if (found.kind !== 'dir') return null;
      const next = this.child(`/${names.join('/')}`, found.node, part);
      if (!next) return null;
      if (next.kind === 'symlink') {
        if (++hops > MAX_HOPS) return null;
        if (next.target.startsWith('/')) {
          names.splice(0);
          dirs.splice(1);
          found = { kind: 'dir', node: this.tree.root };
        }
        queue.unshift(...next.target.split('/'));
        continue;
      }
      names.push(part);
      dirs.push(next.kind === 'dir' ? next.node : null);
      found = next;
    }
    return { path: `/${names.join('/')}`, found };
  }
}

/** ELF class of a file in the view: 32, 64, or null when unknown (not ELF, or not kept). */
export function elfBits(found: Found): 32 | 64 | null {
  if (found.kind !== 'file') return null;
  if (found.mounted) return found.mounted.bits;
  const head = found.node?.content;
  if (!head || head.length < 5 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  return head[4] === 2 ? 64 : head[4] === 1 ? 32 : null;
}

/** The ABI facts the linker analysis needs. */
export interface AbiRules {
  arch: string;
  bits: 32 | 64;
  /** PT_INTERP of programs of this ABI. */
  interpreter: string;
  /** Cache flags the loader accepts (x86-64: 0x303 only; i386: 0x1 or 0x3). */
  cacheFlags: number[];
  /** glibc-hwcaps subdirectories (highest first) of the ISA levels this CPU supports. */
  hwcaps: string[];
  /** Fallback default directories when the loader's own list cannot be read. */
  multiarch: string;
  /** What a glibc < 2.37 loader of this ABI adds as legacy hwcaps (x86-64 only here), or null. */
  legacy: LegacyHwcaps | null;
}

/** The x86-64 CPU facts glibc's legacy hwcaps depend on (sysdeps/x86/cpu-features.c, glibc 2.26-2.36). */
export interface LegacyX86 {
  /** GLRO(dl_platform): `haswell` or `xeon_phi` on Intel CPUs with those features, else AT_PLATFORM, `x86_64`. */
  platform: string;
  /** The important hwcap bits set: always `x86_64`, plus `avx512_1` on Intel CPUs with AVX-512 F/CD/BW/DQ/VL (not ER). */
  hwcaps: string[];
}

/** Legacy hwcaps as one loader uses them: the subdirectories it tries and the cache entries it accepts. */
export interface LegacyHwcaps {
  /** Subdirectories tried before each directory itself, in the loader's order (`tls/haswell/avx512_1/x86_64`, …, `x86_64`). */
  subdirs: string[];
  /** dl_hwcap & hwcap_mask (HWCAP_IMPORTANT) as cache hwcap bits. */
  hwcapBits: bigint;
  /** The cache bit of the platform, or null when the platform is none of glibc's x86 platform names. */
  platformBit: bigint | null;
}

// sysdeps/x86/dl-hwcap.h and dl-procinfo.c: hwcap strings by bit, platforms from bit 48, tls is bit 63.
const X86_HWCAP_BITS: Record<string, number> = { sse2: 0, x86_64: 1, avx512_1: 2 };
const X86_PLATFORMS = ['i586', 'i686', 'haswell', 'xeon_phi'];
const PLATFORM_MASK = 0xfn << 48n;
const TLS_BIT = 1n << 63n;

/**
 * The legacy hwcaps of an x86-64 loader: the path components are `tls`, the platform, then the
 * hwcap strings from the highest bit down, and every subset of them is tried, the full set first,
 * in descending binary order with `tls` as the highest digit (_dl_important_hwcaps).
 */
export function x86LegacyHwcaps(cpu: LegacyX86): LegacyHwcaps {
  const hw = cpu.hwcaps.filter((h) => h in X86_HWCAP_BITS).sort((a, b) => X86_HWCAP_BITS[b]! - X86_HWCAP_BITS[a]!);
  const parts = ['tls', cpu.platform, ...hw];
  const subdirs: string[] = [];
  for (let mask = (1 << parts.length) - 1; mask > 0; mask--) {
    subdirs.push(parts.filter((_, i) => (mask & (1 << (parts.length - 1 - i))) !== 0).join('/'));
  }
  const platformIndex = X86_PLATFORMS.indexOf(cpu.platform);
  return {
    subdirs,
    hwcapBits: hw.reduce((bits, h) => bits | (1n << BigInt(X86_HWCAP_BITS[h]!)), 0n),
    platformBit: platformIndex < 0 ? null : 1n << BigInt(48 + platformIndex),
  };
}

/** Whether a glibc < 2.37 loader accepts a cache entry with legacy hwcap bits (dl-cache.c's HWCAP_CHECK). */
export function legacyCacheAccepts(hwcap: bigint, legacy: LegacyHwcaps): boolean {
  if ((hwcap & ~(legacy.hwcapBits | PLATFORM_MASK | TLS_BIT)) !== 0n) return false;
  const platform = hwcap & PLATFORM_MASK;
  return platform === 0n || platform === legacy.platformBit;
}

/** AT_PLATFORM on x86-64 with no platform-specific features: what AMD and older Intel CPUs get. */
export const PLAIN_X86: LegacyX86 = { platform: 'x86_64', hwcaps: ['x86_64'] };

/** x86-64 ISA levels as glibc names them, `level` = 1..4 supported by the CPU. */
export function x86Hwcaps(level: number): string[] {
  return ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'].filter((_, i) => 4 - i <= level);
}

export function abiRules(arch: string, isaLevel: number, cpu: LegacyX86 = PLAIN_X86): AbiRules | null {
  switch (arch) {
    case 'x86-64':
      return { arch, bits: 64, interpreter: '/lib64/ld-linux-x86-64.so.2', cacheFlags: [0x303], hwcaps: x86Hwcaps(isaLevel), multiarch: 'x86_64-linux-gnu', legacy: x86LegacyHwcaps(cpu) };
    // Not modelled: i386's and aarch64's legacy hwcaps (i686/sse2, …); their subdirectories are not searched here.
    case 'i386':
      return { arch, bits: 32, interpreter: '/lib/ld-linux.so.2', cacheFlags: [0x1, 0x3], hwcaps: [], multiarch: 'i386-linux-gnu', legacy: null };
    case 'aarch64':
      return { arch, bits: 64, interpreter: '/lib/ld-linux-aarch64.so.1', cacheFlags: [0xa03], hwcaps: [], multiarch: 'aarch64-linux-gnu', legacy: null };
    default:
      return null;
  }
}

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
  if (cacheNode?.node.kind === 'file') {
    if (cacheNode.node.content && !cacheNode.node.partial) {
      try {
        cache = parseLdCache(cacheNode.node.content);
      } catch (err) {
        cacheProblem = (err as Error).message;
      }
    } else cacheProblem = 'too large to read';
  }
  const llpRaw = imageEnv(env, 'LD_LIBRARY_PATH');
  const { dirs: llp, dropped: llpDropped } = llpDirs(llpRaw);
  const facts: LinkerFacts = { loader, musl, glibc: null, libc: null, defaultDirs, defaultDirsFrom, cache, cacheProblem, llp, llpRaw, llpDropped };
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
