// `nvidia-volume remove [--dir DIR] [--force] VERSION...`: deletes driver volumes; refused while
// the plugin records mounts of one.
import { CliError, parseCliArgs, UsageError, writeOut } from '../run-cli.js';
import { DEFAULT_VOLUMES_DIR, VOLUME_NAME } from '../../node/volume.js';
import { removeDriverVolume } from '../../node/volume-list.js';

const help = `Usage: nvidia-volume remove [--dir DIR] [--force] VERSION...

Removes DIR/nvidia_driver/VERSION (VERSION or ${VOLUME_NAME}_VERSION). A volume that the plugin
records as mounted is kept unless --force is given.

Options:
  --dir DIR   volumes directory (default ${DEFAULT_VOLUMES_DIR})
  --force     remove even when mounted
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
  let failed = 0;
  for (const given of positionals) {
    const version = given.startsWith(`${VOLUME_NAME}_`) ? given.slice(VOLUME_NAME.length + 1) : given;
    try {
      if (await removeDriverVolume({ dir: values.dir, version, force: values.force })) await writeOut(`removed ${VOLUME_NAME}_${version}\n`);
      else throw new CliError(`no volume ${VOLUME_NAME}_${version}`);
    } catch (err) {
      process.stderr.write(`nvidia-volume: ${(err as Error).message.split('\n')[0]}\n`);
      failed += 1;
    }
  }
  return failed === 0 ? 0 : 1;
}
