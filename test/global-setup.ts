// One scratch directory for the whole run, removed at the end. Helpers that keep files for the
// life of a worker (compiled objects) put them here: vitest may end its workers without an
// 'exit' event, so a worker's own cleanup cannot be relied on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ldcache-test-run-'));
  process.env.LDCACHE_TEST_TMP = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
