// Writes a CDI spec file: atomically (an engine scanning the spec directory never reads half a
// spec), mode 0644 whatever the umask, into a directory created if missing.
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

/** Creates `dir` and missing parents as 0755 whatever the umask: engines, rootless too, must read specs. */
async function makeParents(dir: string): Promise<void> {
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true });
  } catch (err) {
    // mkdir -p says EEXIST when a component is a file: say what is wrong.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
  }
  if (first === undefined) return;
  for (let created = dir; ; created = dirname(created)) {
    await chmod(created, 0o755);
    if (created === first || created === dirname(created)) break;
  }
}

/** Writes a spec file atomically, readable by all and writable by the owner, creating missing parent directories (0755). */
export async function writeSpecFile(file: string, text: string): Promise<void> {
  // Spec directories such as /etc/cdi often do not exist yet.
  await makeParents(dirname(file));
  await writeFileAtomic(file, text, 0o644);
}
