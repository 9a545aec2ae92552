// Writes a file atomically: a temp file in the same directory, flushed, given its final mode,
// then renamed over the target, so an engine scanning the spec directory never reads half a spec.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `text` to `file` atomically with `mode` (default 0644: readable by all, writable by the owner). */
export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
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
