// `nvidia-volume cdi validate FILE...`: the strict validator (validateCdiSpec) on spec files.
import type { CdiSpec } from '../../core/cdi-types.js';
import { formatCdiProblems, validateCdiSpec } from '../../core/cdi-validate.js';
import { CdiReadError, readCdiSpecFile } from '../../node/cdi-read.js';
import { parseCliArgs, UsageError, writeOut } from '../run-cli.js';

const usage = `Usage: nvidia-volume cdi validate FILE...

Check CDI spec files (*.json as JSON, anything else as YAML) strictly, as the engines' loaders
decode them: known fields only, each allowed by the cdiVersion the file declares, names, kinds,
paths and values. Prints one line per problem (FILE: WHERE: PROBLEM) on stderr and exits 1;
a valid file prints FILE: valid (cdiVersion, devices) and exits 0.

Example: nvidia-volume cdi validate /etc/cdi/nvidia.yaml
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing FILE');
  let failed = false;
  for (const file of positionals) {
    let spec: unknown;
    try {
      spec = await readCdiSpecFile(file);
    } catch (err) {
      if (!(err instanceof CdiReadError)) throw err;
      process.stderr.write(`${err.message}\n`);
      failed = true;
      continue;
    }
    const { problems, requiredVersion } = validateCdiSpec(spec);
    if (problems.length > 0) {
      for (const line of formatCdiProblems(problems)) process.stderr.write(`${file}: ${line}\n`);
      failed = true;
      continue;
    }
    const valid = spec as CdiSpec;
    await writeOut(`${file}: valid (cdiVersion ${valid.cdiVersion}, needs ${requiredVersion}; ${valid.devices.length} devices of ${valid.kind})\n`);
  }
  return failed ? 1 : 0;
}
