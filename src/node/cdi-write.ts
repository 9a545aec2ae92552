// Writes a file atomically: a temp file in the same directory, flushed, given its final mode,
// then renamed over the target, so an engine scanning the spec directory never reads half a spec.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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

/** Writes `text` to `file` atomically with `mode` (default 0644: readable by all, writable by the owner); creates missing parent directories (0755). */
export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  // Spec directories such as /etc/cdi often do not exist yet.
  await makeParents(dirname(file));
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': never follow or reuse something already at the temp name.
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    // Explicit chmod: the mode given to open() is cut by the umask.
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
