// `nvidia-volume create [--root DIR] [--dir DIR]`: builds (or verifies and reuses) the running
// driver's volume `DIR/nvidia_driver/<version>/`.
import { parseCliArgs, writeOut } from '../run-cli.js';
import { createDriverVolume, DEFAULT_VOLUMES_DIR, type VolumeProgress } from '../../node/volume.js';

const MB = 1024 * 1024;

/**
 * Progress on stderr when it is a terminal (one line redrawn at most 10 times a second, then
 * kept); nothing when stderr is piped or redirected.
 */
function terminalProgress(): ((progress: VolumeProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (p) => {
    const done = p.files === p.totalFiles;
    const now = Date.now();
    if (!done && p.files > 0 && now - last < 100) return;
    last = now;
    const line = `placing driver files: ${p.files}/${p.totalFiles} files, ${(p.bytes / MB).toFixed(1)} MB`;
    process.stderr.write(`\r${line}\x1b[K${done ? '\n' : ''}`);
  };
}

const help = `Usage: nvidia-volume create [--root DIR] [--dir DIR] [--copy] [--json]

Builds the driver volume DIR/nvidia_driver/<version>/ (bin/, lib64/, lib/) from the driver
found under the root: hard links where possible, else reflink clones, else copies. A complete
volume of the same version is verified and reused; a run killed midway leaves no partial volume.

Options:
  --root DIR   driver root (default /)
  --dir DIR    volumes directory (default ${DEFAULT_VOLUMES_DIR})
  --copy       copy (or clone) the files instead of hard-linking them
  --json       print the result as JSON
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: {
      root: { type: 'string' },
      dir: { type: 'string' },
      copy: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(help);
    return 0;
  }
  const volume = await createDriverVolume({
    root: values.root ?? '/',
    dir: values.dir,
    strategy: values.copy ? 'copy' : 'auto',
    onProgress: terminalProgress(),
  });
  for (const line of volume.skipped) process.stderr.write(`nvidia-volume: warning: ${line}\n`);
  if (values.json) {
    await writeOut(`${JSON.stringify(volume, null, 2)}\n`);
    return 0;
  }
  const { link, clone, copy } = volume.methods;
  const how = [link && `${link} linked`, clone && `${clone} cloned`, copy && `${copy} copied`].filter(Boolean).join(', ');
  await writeOut(
    volume.created
      ? `created ${volume.name} at ${volume.path} (${volume.files} files: ${how || 'none'}; ${volume.links} links)\n`
      : `${volume.name} is up to date at ${volume.path} (${volume.files} files, ${volume.links} links)\n`,
  );
  return 0;
}
