// IPC endpoints of driver daemons (spec section 3), under /run and /var/run.
import type { IpcKind, IpcPath } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

const ENDPOINTS: [IpcKind, string, 'socket' | 'directory'][] = [
  ['persistenced', '/run/nvidia-persistenced/socket', 'socket'],
  ['persistenced', '/var/run/nvidia-persistenced/socket', 'socket'],
  ['fabricmanager', '/run/nvidia-fabricmanager/socket', 'socket'],
  ['fabricmanager', '/var/run/nvidia-fabricmanager/socket', 'socket'],
  ['mps', '/tmp/nvidia-mps', 'directory'],
];

export function findIpc(fs: RootFs): IpcPath[] {
  const seen = new Set<string>();
  const found: IpcPath[] = [];
  for (const [kind, path, type] of ENDPOINTS) {
    let resolved;
    try {
      resolved = fs.tryResolve(path);
    } catch {
      continue;
    }
    if (!resolved || seen.has(resolved.path)) continue;
    if (type === 'socket' ? !resolved.stats.isSocket() : !resolved.stats.isDirectory()) continue;
    seen.add(resolved.path);
    found.push({ kind, path: resolved.path });
  }
  return found;
}
