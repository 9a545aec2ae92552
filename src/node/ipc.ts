// IPC endpoints of driver daemons (spec section 3), under /run and /var/run, and the MPS pipe
// directory in /tmp. They are mounted into containers (the MPS directory read-write), so a name
// that someone other than root can make or swap never becomes a mount: the endpoint itself must
// not be a symbolic link (a planted `/tmp/nvidia-mps -> /etc` would give every GPU container the
// host's /etc read-write), and one in a world-writable directory (any user can create the name)
// must belong to root, or to the user running discovery.
import type { IpcKind, IpcPath } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

const ENDPOINTS: [IpcKind, string, 'socket' | 'directory'][] = [
  ['persistenced', '/run/nvidia-persistenced/socket', 'socket'],
  ['persistenced', '/var/run/nvidia-persistenced/socket', 'socket'],
  ['fabricmanager', '/run/nvidia-fabricmanager/socket', 'socket'],
  ['fabricmanager', '/var/run/nvidia-fabricmanager/socket', 'socket'],
  ['mps', '/tmp/nvidia-mps', 'directory'],
];

const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

export function findIpc(fs: RootFs, warnings: string[] = []): IpcPath[] {
  const seen = new Set<string>();
  const found: IpcPath[] = [];
  const trusted = new Set([0, process.getuid?.() ?? 0]);
  for (const [kind, path, type] of ENDPOINTS) {
    // The directories on the way are followed (/var/run -> /run); the endpoint itself is not.
    const endpoint = fs.tryResolve(path, false);
    if (!endpoint) continue;
    if (endpoint.stats.isSymbolicLink()) {
      warnings.push(`${path}: a symbolic link; not passed to containers (a link there could lead a mount anywhere on the host)`);
      continue;
    }
    if (type === 'socket' ? !endpoint.stats.isSocket() : !endpoint.stats.isDirectory()) continue;
    const parent = fs.tryResolve(dirOf(endpoint.path));
    if (parent && (parent.stats.mode & 0o002) !== 0 && !trusted.has(endpoint.stats.uid)) {
      warnings.push(`${path}: owned by uid ${endpoint.stats.uid} in world-writable ${dirOf(path)} (any user can make that name); not passed to containers`);
      continue;
    }
    if (seen.has(endpoint.path)) continue;
    seen.add(endpoint.path);
    // A socket's clients inside the container reach it by either name (/var/run is /run there too);
    // MPS clients look only for /tmp/nvidia-mps.
    found.push(type === 'directory' && endpoint.path !== path ? { kind, path: endpoint.path, containerPath: path } : { kind, path: endpoint.path });
  }
  return found;
}
