// One rule for "which driver version is this" (src/core/driver-version.ts), checked in both
// orders in which a leftover driver's entries can reach the cache (470 listed before 535, and the
// reverse; the order is read back from the real `ldconfig -p`): through the core's cache-only
// classification and through discovery of the root. The inspector's view of the same caches is
// checked in test/inspector.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { classifyNvidiaCache } from '../src/core/nvidia.js';
import { parseLdCache } from '../src/core/parse.js';
import { discoverDriver } from '../src/node/discover.js';
import { describeNeeding } from './helpers/requirements.js';
import { ldconfigPath, ldconfigPrint, makeTempDir, canBuild } from './helpers/so-builder.js';
import { buildTwoDriverRoot, CURRENT_DIR, DRIVER, LEFTOVER, LEFTOVER_DIR, type Order } from './helpers/two-drivers.js';

const missing = (!ldconfigPath() || !canBuild(64)) && 'needs gcc and ldconfig';
let temp: { dir: string; cleanup: () => void } | undefined;
afterAll(() => temp?.cleanup());

for (const order of ['leftover-first', 'driver-first'] as const satisfies readonly Order[]) {
  describeNeeding(`a root with a 470 leftover beside driver 535 (${order} in the cache)`, missing, () => {
    let root = '';
    let cacheFile = '';
    beforeAll(() => {
      temp ??= makeTempDir('ldcache-two-drivers-');
      root = join(temp.dir, order);
      cacheFile = buildTwoDriverRoot(root, order);
    });

    it('the cache lists libcuda.so.1 in that order (as ldconfig -p prints it)', () => {
      const paths = ldconfigPrint(cacheFile).stdout.toString().split('\n').filter((l) => l.startsWith('\tlibcuda.so.1 ')).map((l) => l.slice(l.indexOf(' => ') + 4));
      expect(paths).toEqual(order === 'leftover-first' ? [`${LEFTOVER_DIR}/libcuda.so.1`, `${CURRENT_DIR}/libcuda.so.1`] : [`${CURRENT_DIR}/libcuda.so.1`, `${LEFTOVER_DIR}/libcuda.so.1`]);
    });

    it('the core calls 535 the driver and every 470 entry a stray', () => {
      const cache = parseLdCache(readFileSync(cacheFile));
      const result = classifyNvidiaCache(cache);
      expect(result.driverVersion).toBe(DRIVER);
      expect(result.versions).toEqual([DRIVER, LEFTOVER]);
      const byPath = new Map(result.entries.map((e) => [cache.entries[e.index]!.path, e.status]));
      expect(byPath.size).toBe(6);
      for (const [path, status] of byPath) expect(status, path).toBe(path.startsWith(`${LEFTOVER_DIR}/`) ? 'stray' : 'driver');
    });

    it('discovery calls 535 the driver from the library files and selects only its files', async () => {
      const found = discoverDriver({ root });
      expect([found.driverVersion, found.versionSource]).toEqual([DRIVER, 'libraries']);
      expect(found.libraries.map((l) => l.path).sort()).toEqual([`${CURRENT_DIR}/libcuda.so.${DRIVER}`, `${CURRENT_DIR}/libnvidia-glcore.so.${DRIVER}`, `${CURRENT_DIR}/libnvidia-ml.so.${DRIVER}`]);
      // Where the leftover comes first, the root's own programs load its libcuda: said, not followed.
      const linkerWarning = found.warnings.filter((w) => w.startsWith("the host's dynamic linker finds libcuda.so.1"));
      expect(linkerWarning).toHaveLength(order === 'leftover-first' ? 1 : 0);
      if (order === 'leftover-first') expect(linkerWarning[0]).toContain(`${LEFTOVER_DIR}/libcuda.so.1 (${LEFTOVER})`);
    });
  });
}
