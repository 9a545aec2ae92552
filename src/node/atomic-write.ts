// Writes a file atomically: a fresh temp file beside it (O_EXCL, so nothing planted there is
// followed or reused), flushed, given its final mode, then renamed over the target. Readers see
// the old file or the new one, never half of one; a planted symlink at the target is replaced,
// never written through.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `text` to `file` atomically with `mode` (applied explicitly: the umask does not cut it). */
export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  // Hidden and with a foreign suffix: directory scanners (CDI loaders, volume listings) skip it.
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
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
