// The error type of the Node layer: every failure that names a file or directory (a driver root,
// a volumes directory, a socket, a spec file) is a HostError with a string `code` and the `path`
// it is about, so callers (the CLIs, the plugin, discovery) decide by `code` and print `message`
// (one line, `PATH: REASON`) or `reason` (without the path) without taking text apart.
//
// Codes: the errno name of a failed system call (ENOENT, EACCES, ...), or one of ours: ECHANGED
// (a file changed while being resolved or opened), ENOTREG (not a regular file), ESYMLINK (a
// symlink where none may be), ENODRIVER (a root without the driver's libraries: no-driver.ts),
// EMOUNTED (a volume a plugin records as mounted: volume-errors.ts), INTERNAL (a bug, never bad
// input).

/** strerror(3)-like text for the errno names a user may meet. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EMLINK: 'too many links',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  EFBIG: 'file too large',
  EADDRINUSE: 'address already in use',
  ENOTEMPTY: 'directory not empty',
};

/** The errno name of a failed system call, or undefined for anything else. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** One lower-case phrase for an errno name (`permission denied`), the name itself when unknown. */
export function errnoText(code: string): string {
  return ERRNO_TEXT[code] ?? code;
}

export class HostError extends Error {
  override name = 'HostError';
  constructor(
    /** Machine-readable reason: an errno name or one of this module's codes. */
    readonly code: string,
    /** The file or directory the failure is about. */
    readonly path: string,
    /** What went wrong, without the path. */
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/**
 * Any failure of an operation on `path` as a HostError: a HostError passes unchanged, a failed
 * system call keeps its errno name and gets `doing` plus its strerror text (`cannot read X:
 * input/output error`), anything else (a bug) becomes INTERNAL with its message.
 */
export function hostErrorFrom(err: unknown, path: string, doing?: string): HostError {
  if (err instanceof HostError) return err;
  const code = errnoOf(err);
  if (code !== undefined) return new HostError(code, path, doing ? `${doing}: ${errnoText(code)}` : errnoText(code));
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  return new HostError('INTERNAL', path, doing ? `${doing}: ${message}` : message);
}
