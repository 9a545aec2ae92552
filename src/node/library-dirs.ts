// Where the dynamic linker of a root looks when there is no ld.so.cache to ask (NixOS, musl,
// a bare driver root): the directories of ld.so.conf (with `include` globs, as ldconfig reads
// them), musl's /etc/ld-musl-<arch>.path, then the standard and multiarch directories.
import type { RootFs } from './rootfs.js';

const MAX_INCLUDE_DEPTH = 8;

/** Standard library directories; `<triplet>` ones are taken for every triplet present. */
export const STANDARD_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/lib32', '/usr/lib32', '/usr/local/lib', '/usr/local/lib64'];
const TRIPLET_SUBDIRS = ['', '/nvidia/current', '/nvidia'];
const EXTRA_DIRS = ['/usr/lib/nvidia', '/usr/lib64/nvidia', '/usr/local/nvidia/lib64', '/usr/local/nvidia/lib', '/run/opengl-driver/lib', '/run/opengl-driver-32/lib'];

/** `*`, `?` and `[…]` of a glob component as a RegExp. */
function globPart(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Expands a glob inside the root, component by component; sorted like glob(3). */
export function globInRoot(fs: RootFs, pattern: string): string[] {
  let paths = [''];
  for (const part of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const base of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(`${base}/${part}`);
        continue;
      }
      const matcher = globPart(part);
      for (const name of fs.readdir(base || '/').names) if (matcher.test(name) && !name.startsWith('.')) next.push(`${base}/${name}`);
    }
    paths = next;
  }
  return paths.filter((p) => fs.tryResolve(p) !== null).sort();
}

function readConf(fs: RootFs, file: string, dirs: string[], depth: number, visited: Set<string>): void {
  // Each file once: a conf that includes itself (many times) must not explode.
  const real = fs.tryResolve(file)?.path;
  if (depth > MAX_INCLUDE_DEPTH || real === undefined || visited.has(real)) return;
  visited.add(real);
  const text = fs.readText(file, 1 << 20);
  if (text === null) return;
  const base = file.slice(0, file.lastIndexOf('/')) || '/';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const include = /^include\s+(.+)$/.exec(line);
    if (include) {
      for (const pattern of include[1]!.split(/\s+/)) {
        const absolute = pattern.startsWith('/') ? pattern : `${base}/${pattern}`;
        for (const match of globInRoot(fs, absolute)) readConf(fs, match, dirs, depth + 1, visited);
      }
      continue;
    }
    if (line.startsWith('hwcap ')) continue;
    // `dir=TYPE` (libc5 era) and comma/space separated lists.
    for (const entry of line.split(/[\s,:]+/)) if (entry.startsWith('/')) dirs.push(entry.replace(/=.*$/, ''));
  }
}

/** The library directories of a root in search order, resolved inside it and deduplicated. */
export function libraryDirs(fs: RootFs): string[] {
  const wanted: string[] = [];
  readConf(fs, '/etc/ld.so.conf', wanted, 0, new Set());
  for (const musl of globInRoot(fs, '/etc/ld-musl-*.path')) {
    const text = fs.readText(musl) ?? '';
    for (const entry of text.split(/[\s:]+/)) if (entry.startsWith('/')) wanted.push(entry);
  }
  for (const dir of STANDARD_DIRS) {
    wanted.push(dir);
    for (const name of fs.readdir(dir).names) {
      if (/^[a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+$/.test(name)) for (const sub of TRIPLET_SUBDIRS) wanted.push(`${dir}/${name}${sub}`);
    }
  }
  wanted.push(...EXTRA_DIRS);
  const seen = new Set<string>();
  const dirs: string[] = [];
  for (const dir of wanted) {
    let found;
    try {
      found = fs.tryResolve(dir);
    } catch {
      continue;
    }
    if (!found || !found.stats.isDirectory() || seen.has(found.path)) continue;
    seen.add(found.path);
    dirs.push(found.path);
  }
  return dirs;
}
