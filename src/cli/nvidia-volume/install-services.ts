// `nvidia-volume install-services [--remove]`: installs (or removes) the systemd units for the
// volume plugin and the CDI refresh, pointing at this installation of nvidia-volume.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_UNIT_DIR, ENABLED_UNITS, installServices, removeServices, type ServicesResult } from '../../node/services.js';
import { CliError, parseCliArgs, writeOut } from '../run-cli.js';

const usage = `Usage: nvidia-volume install-services [--remove] [--unit-dir DIR] [--no-enable]

Install the systemd units that run nvidia-volume as services, with ExecStart set to this node and
this nvidia-volume (${process.argv[1] ?? 'nvidia-volume'}):
  nvidia-volume-plugin.service  the Docker volume plugin, started before docker.service
  nvidia-cdi-refresh.service    writes /var/run/cdi/nvidia.yaml at boot (unchanged: left untouched)
  nvidia-cdi-refresh.path       reruns it when the driver changes (/etc/ld.so.cache, modules.dep)
then 'systemctl daemon-reload' and 'systemctl enable --now ${ENABLED_UNITS.join(' ')}'.

Options:
  --remove         stop, disable and remove them instead
  --unit-dir DIR   write the units to DIR (default ${DEFAULT_UNIT_DIR})
  --no-enable      only write (or remove) the files; do not run systemctl
  -h, --help       show this help

Example: npm install -g --prefix /usr/local ldcache-0.1.0.tgz && nvidia-volume install-services
`;

function report(result: ServicesResult, verb: string): string {
  const lines = result.files.map((f) => `${verb} ${f}`);
  for (const call of result.systemctl) lines.push(`systemctl ${call.args.join(' ')}${call.ok ? '' : `: failed${call.output ? `: ${call.output.split('\n')[0]}` : ''}`}`);
  if (result.skipped) lines.push(`systemctl not run: ${result.skipped}`);
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: {
      remove: { type: 'boolean' },
      'unit-dir': { type: 'string' },
      'no-enable': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  const unitDir = resolve(values['unit-dir'] ?? DEFAULT_UNIT_DIR);
  let result: ServicesResult;
  try {
    if (values.remove) {
      result = await removeServices({ unitDir, disable: !values['no-enable'] });
    } else {
      // The command as installed (e.g. /usr/local/bin/nvidia-volume, a link into the package):
      // kept as a link so that a reinstall of the package needs no new units.
      const self = resolve(process.argv[1] ?? '');
      realpathSync(self); // it must exist
      result = await installServices({ node: process.execPath, nvidiaVolume: self, unitDir, enable: !values['no-enable'] });
    }
  } catch (err) {
    const e = err as Error;
    throw new CliError(`cannot ${values.remove ? 'remove' : 'install'} units in ${unitDir}: ${e.message.split(',')[0]}`);
  }
  await writeOut(report(result, values.remove ? 'removed' : 'wrote'));
  return result.systemctl.every((c) => c.ok) ? 0 : 1;
}
