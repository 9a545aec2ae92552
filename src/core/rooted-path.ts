// Paths inside a root, browser-safe (the Node side's hostPath agrees: see test/driver-injection).
/** `path` normalized as an absolute path: `.` and empty segments dropped, `..` stops at `/`. */
export function normalizeAbsolute(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The path on this machine of `path` inside the absolute `root`: `..` cannot climb above the root. */
export function rootedPath(root: string, path: string): string {
  const inside = normalizeAbsolute(path);
  return inside === '/' ? root : normalizeAbsolute(`${root}/${inside}`);
}
