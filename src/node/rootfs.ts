// Paths inside a root directory, resolved as chroot(2) would resolve them, without chroot:
// component by component with lstat/readlink, absolute link targets re-rooted at the root,
// `..` stopped at the root, at most 40 links followed. Files are opened only after their
// resolution, with O_NOFOLLOW, and checked (fstat) to be the very inode that was resolved,
// so a link swapped in between cannot lead outside the root.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { errnoText, errnoOf, HostError } from './errors.js';

/** Linux's limit on links followed in one lookup (MAXSYMLINKS). */
export const MAX_LINK_HOPS = 40;
/** Components walked in one lookup before giving up (link targets can add many). */
const MAX_STEPS = 4096;

export type RootFsErrorCode = 'ENOENT' | 'ENOTDIR' | 'ELOOP' | 'ENAMETOOLONG' | 'ECHANGED' | 'ENOTREG' | 'EFBIG' | 'EIO';

/** A path inside a root that cannot be resolved, opened or read; `path` is the path inside the root. */
export class RootFsError extends HostError {
  override name = 'RootFsError';
  constructor(
    override readonly code: RootFsErrorCode,
    path: string,
    reason: string,
  ) {
    super(code, path, reason);
  }
}

export interface Resolved {
  /** The path inside the root, every link resolved (absolute, normalized). */
  path: string;
  /** lstat of the final component (not a symlink unless `follow` was false). */
  stats: Stats;
  /** Number of links followed. */
  hops: number;
}

/** The host path of `path` inside `root`: `..` cannot climb above the root. */
export function hostPath(root: string, path: string): string {
  const inside = posix.normalize(`/${path}`);
  return inside === '/' ? root : posix.join(root, inside);
}

const split = (path: string): string[] => path.split('/').filter((part) => part !== '' && part !== '.');

export class RootFs {
  /** The root on this machine, itself resolved (the root is trusted; what is inside is not). */
  readonly root: string;
  private readonly cache = new Map<string, Resolved>();

  constructor(root: string) {
    const given = posix.resolve(root);
    let real: string;
    try {
      real = realpathSync(given);
    } catch (err) {
      throw new RootFsError('ENOENT', given, `cannot use as a root: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message}`);
    }
    if (!lstatSync(real).isDirectory()) throw new RootFsError('ENOTDIR', given, 'cannot use as a root: not a directory');
    this.root = real;
  }

  hostPath(path: string): string {
    return hostPath(this.root, path);
  }

  /**
   * Resolves `path` inside the root. With `follow` false a final symlink is not followed.
   * Directories met on the way are remembered for the life of this object.
   */
  resolve(path: string, follow = true): Resolved {
    const key = `${follow ? 'F' : 'L'}${path}`;
    const known = this.cache.get(key);
    if (known) return known;
    const resolved = this.walk(path, follow);
    this.cache.set(key, resolved);
    return resolved;
  }

  /**
   * Like resolve, but null when the path cannot be resolved. A missing path is quiet; other
   * failures (link loops, over-long chains) are noted in `problems`.
   */
  tryResolve(path: string, follow = true): Resolved | null {
    try {
      return this.resolve(path, follow);
    } catch (err) {
      if (!(err instanceof RootFsError)) throw err;
      this.note(err);
      return null;
    }
  }

  /** Failures other than "missing" met by the quiet lookups, one line each, in order. */
  readonly problems: string[] = [];

  private note(err: RootFsError): void {
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR' && err.code !== 'ENOTREG' && !this.problems.includes(err.message)) {
      this.problems.push(err.message);
    }
  }

  /** Host path of an already normalized inside path (`/a/b`). */
  private host(inside: string): string {
    return inside === '/' ? this.root : this.root === '/' ? inside : this.root + inside;
  }

  // What this lookup already saw, for the life of this object: one lstat and one readlink per
  // path. (Opening re-checks the inode, so a change after the lookup is still caught.)
  private readonly seen = new Map<string, Stats | null>();
  private readonly targets = new Map<string, string>();

  private lstat(inside: string, path: string): Stats | null {
    let stats = this.seen.get(inside);
    if (stats !== undefined) return stats;
    try {
      stats = lstatSync(this.host(inside), { throwIfNoEntry: false }) ?? null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw new RootFsError('ENOTDIR', path, `${inside.slice(0, inside.lastIndexOf('/')) || '/'} is not a directory`);
      if (code === 'ENAMETOOLONG') throw new RootFsError('ENAMETOOLONG', path, 'path too long');
      throw new RootFsError('EIO', path, `cannot inspect ${inside}: ${(err as Error).message}`);
    }
    this.seen.set(inside, stats);
    return stats;
  }

  private readlink(inside: string, path: string): string {
    let target = this.targets.get(inside);
    if (target === undefined) {
      try {
        target = readlinkSync(this.host(inside));
      } catch (err) {
        // lstat saw a link, and now it is something else (or gone): a swap under our feet.
        throw new RootFsError('ECHANGED', path, `${inside} changed while being resolved (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      this.targets.set(inside, target);
    }
    return target;
  }

  private walk(path: string, follow: boolean): Resolved {
    const pending = split(path).reverse(); // a stack: next component last
    let done = '';
    let stats = this.lstat('/', path)!;
    let hops = 0;
    let steps = 0;
    while (pending.length > 0) {
      if (++steps > MAX_STEPS) throw new RootFsError('ENAMETOOLONG', path, 'path too long after following links');
      const part = pending.pop()!;
      if (part === '..') {
        done = done.slice(0, done.lastIndexOf('/')); // at the root, `..` is the root
        stats = this.lstat(done || '/', path)!;
        continue;
      }
      const inside = `${done}/${part}`;
      const current = this.lstat(inside, path);
      if (!current) throw new RootFsError('ENOENT', path, `no such file or directory (${inside} is missing)`);
      if (current.isSymbolicLink() && (pending.length > 0 || follow)) {
        if (++hops > MAX_LINK_HOPS) throw new RootFsError('ELOOP', path, `too many levels of symbolic links (more than ${MAX_LINK_HOPS})`);
        const target = this.readlink(inside, path);
        if (target === '') throw new RootFsError('ENOENT', path, `${inside} is an empty symbolic link`);
        if (target.startsWith('/')) done = ''; // absolute targets start again at the root
        const parts = split(target);
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
        continue;
      }
      if (pending.length > 0 && !current.isDirectory()) throw new RootFsError('ENOTDIR', path, `${inside} is not a directory`);
      done = inside;
      stats = current;
    }
    return { path: done || '/', stats, hops };
  }

  /**
   * Opens a regular file inside the root for reading. The returned fd is the inode `resolve`
   * found: O_NOFOLLOW refuses a final link swapped in, fstat catches any other swap.
   */
  open(path: string): { fd: number; resolved: Resolved } {
    const resolved = this.resolve(path);
    if (!resolved.stats.isFile()) throw new RootFsError('ENOTREG', path, `${resolved.path} is not a regular file`);
    let fd: number;
    try {
      fd = openSync(this.host(resolved.path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new RootFsError('ECHANGED', path, `${resolved.path} became a symbolic link while being opened`);
      if (code === 'ENOENT') throw new RootFsError('ENOENT', path, `${resolved.path} disappeared while being opened`);
      throw new RootFsError('EIO', path, `cannot open ${resolved.path}: ${(err as Error).message}`);
    }
    const opened = fstatSync(fd);
    if (opened.ino !== resolved.stats.ino || opened.dev !== resolved.stats.dev || !opened.isFile()) {
      closeSync(fd);
      throw new RootFsError('ECHANGED', path, `${resolved.path} changed while being opened`);
    }
    return { fd, resolved };
  }

  /**
   * Reads a whole (small) regular file inside the root. A file of more than `limit` bytes is
   * refused (EFBIG), never cut short: unread when stat says so, else (a /proc file says size 0)
   * after `limit` + 1 bytes.
   */
  readFile(path: string, limit = 1 << 20): Buffer {
    const { fd, resolved } = this.open(path);
    try {
      const tooBig = (): RootFsError => new RootFsError('EFBIG', path, `${resolved.path} is larger than ${limit} bytes`);
      if (resolved.stats.size > limit) throw tooBig();
      const chunks: Buffer[] = [];
      let total = 0;
      // Sized from stat (+1 to see the end at once); /proc files say 0 and come in pages.
      const step = resolved.stats.size > 0 ? resolved.stats.size + 1 : 4096;
      for (;;) {
        const chunk = Buffer.allocUnsafe(Math.min(step, limit + 1 - total));
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        total += n;
        if (total > limit) throw tooBig();
      }
      return Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof RootFsError) throw err;
      // A read that fails (EIO from a disk or a /proc file, EISDIR...) names the file like every other refusal.
      throw new RootFsError('EIO', path, `cannot read ${resolved.path}: ${errnoText(errnoOf(err) ?? 'EIO')}`);
    } finally {
      closeSync(fd);
    }
  }

  /** Text of a small file inside the root, or null when it cannot be read (see `problems`). */
  readText(path: string, limit?: number): string | null {
    try {
      return this.readFile(path, limit).toString('utf8');
    } catch (err) {
      if (!(err instanceof RootFsError)) throw err;
      this.note(err);
      return null;
    }
  }

  /** Names in a directory inside the root (sorted), or [] when it does not exist. */
  readdir(path: string): { dir: string; names: string[] } {
    const resolved = this.tryResolve(path);
    if (!resolved || !resolved.stats.isDirectory()) return { dir: resolved?.path ?? path, names: [] };
    let names = this.listings.get(resolved.path);
    if (!names) {
      names = this.listOpened(resolved);
      this.listings.set(resolved.path, names);
    }
    return { dir: resolved.path, names };
  }

  private readonly listings = new Map<string, string[]>();

  /**
   * Lists the very directory `resolve` found: opened with O_NOFOLLOW, checked by inode, then read
   * through the descriptor (/proc/self/fd/N), so a directory or link swapped in meanwhile is never
   * listed. Without /proc the path is listed once the opened directory proved to be the resolved one.
   */
  private listOpened(resolved: Resolved): string[] {
    let fd: number;
    try {
      fd = openSync(this.host(resolved.path), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch {
      return [];
    }
    try {
      const opened = fstatSync(fd);
      if (opened.ino !== resolved.stats.ino || opened.dev !== resolved.stats.dev) {
        this.note(new RootFsError('ECHANGED', resolved.path, 'changed while being listed'));
        return [];
      }
      try {
        return readdirSync(`/proc/self/fd/${fd}`).sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return [];
        return readdirSync(this.host(resolved.path)).sort(); // no /proc: the path, just checked
      }
    } catch {
      return [];
    } finally {
      closeSync(fd);
    }
  }
}
