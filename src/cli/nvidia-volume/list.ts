// `nvidia-volume list [--dir DIR] [--json]`: the driver volumes on disk, checked against their manifests.
import { parseCliArgs, writeOut } from '../run-cli.js';
import { DEFAULT_VOLUMES_DIR } from '../../node/volume.js';
import { listDriverVolumes } from '../../node/volume-list.js';

const help = `Usage: nvidia-volume list [--dir DIR] [--json]

Lists the driver volumes in DIR/nvidia_driver/ with their state (complete, or what is wrong)
and the mounts the plugin has recorded (all generations together); an older generation that a
container still holds after a rebuild is shown on its own row.

Options:
  --dir DIR   volumes directory (default ${DEFAULT_VOLUMES_DIR})
  --json      print JSON
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: { dir: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    await writeOut(help);
    return 0;
  }
  const volumes = await listDriverVolumes({ dir: values.dir });
  if (values.json) {
    await writeOut(`${JSON.stringify(volumes, null, 2)}\n`);
    return 0;
  }
  const rows = [['NAME', 'STATE', 'FILES', 'MOUNTS', 'PATH']];
  for (const v of volumes) {
    rows.push([v.name, v.complete ? 'complete' : `broken: ${v.problem}`, String(v.files), String(v.mounts), v.path]);
    // Older generations still on disk (a container holds them until it unmounts): one row each.
    for (const old of v.older) rows.push([v.name, 'older generation', '-', String(old.mounts), old.path]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  await writeOut(rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n');
  return 0;
}
