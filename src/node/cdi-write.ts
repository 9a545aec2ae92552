// Writes a CDI spec file: atomically (an engine scanning the spec directory never reads half a
// spec), mode 0644 whatever the umask, into a directory created if missing.
import { chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { makeDirectories } from './make-dirs.js';

/** Creates `dir` and missing parents as 0755 whatever the umask: engines, rootless too, must read specs. */
async function makeParents(dir: string): Promise<void> {
  for (const created of await makeDirectories(dir, 0o755)) await chmod(created, 0o755);
}

/** Writes a spec file atomically, readable by all and writable by the owner, creating missing parent directories (0755). */
export async function writeSpecFile(file: string, text: string): Promise<void> {
  // Spec directories such as /etc/cdi often do not exist yet.
  await makeParents(dirname(file));
  await writeFileAtomic(file, text, 0o644);
}
