// Driver programs, looked up on the root's standard PATH and resolved inside the root.
import type { DriverBinary } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

export const DRIVER_BINARIES = [
  'nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server', 'nv-fabricmanager',
] as const;

export const ROOT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findBinaries(fs: RootFs, warnings: string[]): DriverBinary[] {
  const binaries: DriverBinary[] = [];
  for (const name of DRIVER_BINARIES) {
    for (const dir of ROOT_PATH) {
      const linkPath = `${dir}/${name}`;
      let found;
      try {
        found = fs.tryResolve(linkPath);
      } catch (err) {
        warnings.push(`${linkPath}: ${(err as Error).message.replace(`${linkPath}: `, '')}`);
        continue;
      }
      // Like a shell's PATH search: the first regular file that is executable by someone.
      if (!found || !found.stats.isFile() || (found.stats.mode & 0o111) === 0) continue;
      binaries.push({ name, path: found.path, linkPath });
      break;
    }
  }
  return binaries;
}
