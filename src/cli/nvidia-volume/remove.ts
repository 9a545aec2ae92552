// `nvidia-volume remove [--dir DIR] [--force] VERSION...`: deletes driver volumes; refused while
// the plugin records mounts of one.
import { join, resolve } from 'node:path';
import { CliError, parseCliArgs, UsageError, writeOut } from '../run-cli.js';
import { DEFAULT_VOLUMES_DIR, VOLUME_NAME } from '../../node/volume.js';
import { HostError } from '../../node/errors.js';
import { removeDriverVolume } from '../../node/volume-list.js';

const help = `Usage: nvidia-volume remove [--dir DIR] [--force] VERSION...

Removes DIR/nvidia_driver/VERSION (VERSION or ${VOLUME_NAME}_VERSION). A volume that the plugin
records as mounted is kept unless --force is given.

Options:
  --dir DIR   volumes directory (default ${DEFAULT_VOLUMES_DIR})
  --force     remove even when mounted: the containers using it lose their driver files
              (stop them first; 'nvidia-volume list' shows the recorded mounts)
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs({
    args,
    allowPositionals: true,
    options: { dir: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    await writeOut(help);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing VERSION');
  const searched = join(resolve(values.dir ?? DEFAULT_VOLUMES_DIR), VOLUME_NAME);
  let failed = 0;
  for (const given of positionals) {
    const version = given.startsWith(`${VOLUME_NAME}_`) ? given.slice(VOLUME_NAME.length + 1) : given;
    try {
      if (await removeDriverVolume({ dir: values.dir, version, force: values.force })) await writeOut(`removed ${VOLUME_NAME}_${version}\n`);
      else throw new CliError(`no volume ${VOLUME_NAME}_${version} in ${searched}`);
    } catch (err) {
      const message =
        err instanceof HostError && err.code === 'EMOUNTED'
          ? `${err.message}; stop the containers using it, or add --force to remove it anyway (they lose their driver files)`
          : (err as Error).message.split('\n')[0];
      process.stderr.write(`nvidia-volume: ${message}\n`);
      failed += 1;
    }
  }
  return failed === 0 ? 0 : 1;
}
