// `nvidia-volume cdi list`: the CDI devices that the specs in the engines' spec directories define.
import { DEFAULT_CDI_SPEC_DIRS, listCdiDevices } from '../../node/cdi-read.js';
import { parseCliArgs, writeOut } from '../run-cli.js';

const usage = `Usage: nvidia-volume cdi list [--spec-dir DIR]...

Print the CDI devices (KIND=NAME, one a line, as 'nvidia-ctk cdi list' does) that the specs in
${DEFAULT_CDI_SPEC_DIRS.join(' and ')} define: the names to pass as --device to Podman, Docker 25+
(with CDI on), containerd or CRI-O. A spec file an engine would refuse gives no devices and a
warning on stderr.

Options:
  --spec-dir DIR   read DIR instead (repeat for several; later ones take priority, as engines do)
  -h, --help       show this help

Example: nvidia-volume cdi list   # nvidia.com/gpu=0, nvidia.com/gpu=GPU-…, nvidia.com/gpu=all
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: { 'spec-dir': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  const { devices, problems } = await listCdiDevices(values['spec-dir'] ?? DEFAULT_CDI_SPEC_DIRS);
  for (const problem of problems) process.stderr.write(`nvidia-volume cdi list: warning: skipped ${problem}\n`);
  await writeOut(devices.map((d) => `${d}\n`).join(''));
  return 0;
}
