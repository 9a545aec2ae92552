// Paths inside a root, browser-safe (the Node side's hostPath, on node:path, agrees: see
// test/driver-injection.test.ts).
/** `path` normalized as an absolute path: `.` and empty segments dropped, `..` stops at `/`, a trailing `/` kept (as posix.normalize). */
export function normalizeAbsolute(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  if (parts.length === 0) return '/';
  return `/${parts.join('/')}${path.endsWith('/') ? '/' : ''}`;
}

/** The path on this machine of `path` inside the absolute `root`: `..` cannot climb above the root. */
export function rootedPath(root: string, path: string): string {
  const inside = normalizeAbsolute(path);
  return inside === '/' ? root : normalizeAbsolute(`${root}/${inside}`);
}
