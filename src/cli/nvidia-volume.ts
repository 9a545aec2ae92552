#!/usr/bin/env node
// `nvidia-volume COMMAND ...`: dispatches to src/cli/nvidia-volume/<command>.ts, loaded on demand
// so that each command pays only for what it uses. Each module exports `run(args): Promise<number|void>`.
import { readFileSync } from 'node:fs';
import { asksForJson, runCli, unknownWord, UsageError } from './run-cli.js';

const commands: Record<string, string> = {
  discover: 'find the host driver: version, GPUs, libraries, binaries, devices',
  create: 'build the driver volume for the running driver',
  list: 'list driver volumes',
  remove: 'remove a driver volume',
  plugin: 'serve driver volumes to Docker (legacy volume plugin)',
  'docker-args': 'print the docker run arguments that inject the driver',
  cdi: 'write a Container Device Interface spec (cdi list, cdi validate)',
  'install-services': 'install and enable the systemd units (--remove: remove them)',
  check: 'predict whether a saved image loads the driver (offline)',
};

const usage = `Usage: nvidia-volume COMMAND [OPTIONS]

Commands:
${Object.entries(commands)
  .map(([name, what]) => `  ${name.padEnd(17)} ${what}`)
  .join('\n')}

Run 'nvidia-volume COMMAND --help' for a command's options; 'nvidia-volume --version' for the version.
`;

/** `nvidia-volume 0.1.0`: the version of the package this file ships in (dist/cli/ → package.json). */
function versionLine(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `nvidia-volume ${pkg.version}\n`;
}

runCli('nvidia-volume', async () => {
  const [command, ...args] = process.argv.slice(2);
  if (command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(versionLine());
    return 0;
  }
  if (command === undefined) throw new UsageError('missing COMMAND');
  if (!Object.hasOwn(commands, command)) {
    throw unknownWord(command.startsWith('-') ? 'option' : 'command', command, command.startsWith('-') ? ['--help', '--version'] : Object.keys(commands));
  }
  const module = (await import(`./nvidia-volume/${command}.js`)) as { run(args: string[]): Promise<number | void> };
  return module.run(args);
}, { json: () => asksForJson() });
