// `nvidia-volume plugin`: serves driver volumes to Docker as a legacy volume plugin on a unix
// socket, optionally with v1's REST API on a loopback port. Runs until SIGTERM/SIGINT, which
// close the servers and remove the socket file.
import { join } from 'node:path';
import { parseCliArgs, UsageError, writeOut } from '../run-cli.js';
import { discoverDriver } from '../../node/discover.js';
import { DEFAULT_PLUGIN_NAME } from '../../node/docker-args.js';
import { DriverVolumePlugin } from '../../node/plugin-handlers.js';
import { DEFAULT_PLUGIN_DIR, startPluginServer } from '../../node/plugin-server.js';
import { PLUGIN_NAME_PATTERN } from '../../node/plugin-state.js';
import { startRestApi } from '../../node/rest-api.js';
import { DEFAULT_VOLUMES_DIR } from '../../node/volume.js';

const help = `Usage: nvidia-volume plugin [--name NAME] [--socket PATH] [--root DIR] [--dir DIR] [--rest HOST:PORT] [--copy]

Serves the driver volume nvidia_driver_<version> to Docker (legacy volume plugin protocol).
Use it with 'docker run --volume-driver=NAME -v nvidia_driver_<version>:/usr/local/nvidia:ro'.

Options:
  --name NAME        plugin name (default nvidia-docker)
  --socket PATH      socket (default ${DEFAULT_PLUGIN_DIR}/NAME.sock)
  --root DIR         driver root (default /)
  --dir DIR          volumes directory (default ${DEFAULT_VOLUMES_DIR})
  --rest HOST:PORT   also serve nvidia-docker v1's REST API there (e.g. 127.0.0.1:3476)
  --copy             build volumes from copies, never hard links (a container that mounts the
                     volume without :ro then cannot write the host's driver files)
  --verbose          log every request on stderr
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: {
      name: { type: 'string' },
      socket: { type: 'string' },
      root: { type: 'string' },
      dir: { type: 'string' },
      rest: { type: 'string' },
      copy: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(help);
    return 0;
  }
  const name = values.name ?? DEFAULT_PLUGIN_NAME;
  if (!PLUGIN_NAME_PATTERN.test(name)) throw new UsageError(`invalid plugin name '${name}'`);
  const root = values.root ?? '/';
  const log = (line: string): void => void process.stderr.write(`nvidia-volume plugin: ${line}\n`);

  const plugin = await DriverVolumePlugin.open({ name, root, dir: values.dir, discover: async () => discoverDriver({ root }), strategy: values.copy ? 'copy' : 'auto' });
  for (const note of plugin.startupNotes()) log(note);
  const server = await startPluginServer({ socket: values.socket ?? join(DEFAULT_PLUGIN_DIR, `${name}.sock`), plugin, log: values.verbose ? log : undefined });
  let rest: Awaited<ReturnType<typeof startRestApi>> | null = null;
  try {
    if (values.rest !== undefined) rest = await startRestApi({ listen: values.rest, pluginName: name, discovery: () => plugin.currentDiscovery() });
  } catch (err) {
    await server.close();
    throw err;
  }
  const restUrl = rest ? `http://${rest.address.family === 'IPv6' ? `[${rest.address.address}]` : rest.address.address}:${rest.address.port}` : null;
  log(`listening on ${server.socket}${restUrl ? ` and ${restUrl}` : ''}, volumes in ${plugin.volumesDir}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log(`${signal}: stopping`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void Promise.all([server.close(), rest?.close()]).then(() => resolve());
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
