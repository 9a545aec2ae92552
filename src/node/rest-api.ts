// nvidia-docker v1's REST API (spec nvidia-driver-host.md section 9), served from discovery
// data: `/gpu/info[/json]` and `/docker/cli[/json]`, under `/v1.0/` and without prefix. There is
// no NVML here, so every field only NVML knows (power, clocks, memory, topology, CUDA version)
// is null, as v1 wrote null for unsupported fields.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DriverDiscovery } from './discovery-types.js';
import { driverInjection, parseNvGpu, selectableGpus } from './docker-args.js';
import { VOLUME_NAME } from './volume-fs.js';
import { NoDriverError, noDriverReason } from './no-driver.js';

export interface RestApiOptions {
  /** `host:port`, e.g. `127.0.0.1:3476`. */
  listen: string;
  discovery: () => DriverDiscovery | null;
  pluginName: string;
}

export interface RestApi {
  server: Server;
  address: AddressInfo;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):([0-9]{1,5})$/.exec(listen);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid listen address '${listen}': expected HOST:PORT`);
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function gpuInfoJson(discovery: DriverDiscovery): Record<string, unknown> {
  const byPath = new Map(discovery.gpus.map((g) => [g.devicePath ?? (g.minor === null ? '' : `/dev/nvidia${g.minor}`), g]));
  return {
    Version: { Driver: discovery.driverVersion, CUDA: null },
    Devices: selectableGpus(discovery).map((gpu) => {
      const info = byPath.get(gpu.devicePath);
      return {
        UUID: gpu.uuid,
        Path: gpu.devicePath,
        Model: info?.model ?? null,
        Power: null,
        CPUAffinity: null,
        PCI: { BusID: info?.busId ?? null, BAR1: null, Bandwidth: null },
        Clocks: { Cores: null, Memory: null },
        Topology: null,
        Family: null,
        Arch: null,
        Cores: null,
        Memory: { ECC: null, Global: null, Shared: null, Constant: null, L2Cache: null, Bandwidth: null },
      };
    }),
  };
}

function gpuInfoText(discovery: DriverDiscovery): string {
  const info = gpuInfoJson(discovery) as { Devices: Array<{ UUID: string | null; Path: string; Model: string | null; PCI: { BusID: string | null } }> };
  const na = (v: string | null): string => v ?? 'N/A';
  const lines = [`Driver version:          ${na(discovery.driverVersion)}`, `Supported CUDA version:  N/A`, ''];
  info.Devices.forEach((device, i) => {
    lines.push(`Device #${i}`, `  Model:         ${na(device.Model)}`, `  UUID:          ${na(device.UUID)}`);
    lines.push(`  Path:          ${device.Path}`, `  PCI`, `    Bus ID:      ${na(device.PCI.BusID)}`, '');
  });
  return `${lines.join('\n')}\n`;
}

/** `dev` and `vol` of /docker/cli: space-separated (`+` in the query); empty or `*` = all. */
function dockerCli(discovery: DriverDiscovery, query: URLSearchParams, pluginName: string): { VolumeDriver: string; Volumes: string[]; Devices: string[] } {
  const dev = (query.get('dev') ?? '').trim();
  const vol = (query.get('vol') ?? '').trim();
  let injection;
  try {
    injection = driverInjection(discovery, { gpus: parseNvGpu(dev === '*' ? '' : dev, 'dev'), pluginName });
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  const wanted = vol === '' || vol === '*' ? [VOLUME_NAME] : vol.split(/\s+/);
  for (const name of wanted) if (name !== VOLUME_NAME) throw new HttpError(400, `invalid volume: ${name}`);
  return { VolumeDriver: injection.volumeDriver, Volumes: injection.volumes, Devices: injection.devices };
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Limits of the REST listener: any local user can connect to it, so it must never take what the
 * plugin socket needs (file descriptors, the event loop). Connections past the cap are closed at
 * once; a client has a few seconds to send its headers and request, idle ones are dropped.
 */
export const REST_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  /** A socket with no traffic at all (not even a request line) is closed after this. */
  idleTimeoutMs: 10_000,
} as const;

export async function startRestApi(options: RestApiOptions): Promise<RestApi> {
  const { host, port } = parseListen(options.listen);
  const server = createServer({
    headersTimeout: REST_LIMITS.headersTimeoutMs,
    requestTimeout: REST_LIMITS.requestTimeoutMs,
    keepAliveTimeout: REST_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: 1_000,
    maxHeaderSize: 8 * 1024,
  }, (req, res) => {
    try {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method ?? '?'} not allowed`);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/^\/v1\.0(?=\/)/, '').replace(/\/+$/, '');
      const discovery = options.discovery();
      if (discovery === null) throw new HttpError(503, 'no NVIDIA driver found');
      const noDriver = noDriverReason(discovery);
      if (noDriver !== null) throw new HttpError(503, new NoDriverError(discovery.root, noDriver).message);
      switch (path) {
        case '/gpu/info':
          return send(res, 200, gpuInfoText(discovery), 'text/plain; charset=utf-8');
        case '/gpu/info/json':
          return send(res, 200, `${JSON.stringify(gpuInfoJson(discovery))}\n`, 'application/json');
        case '/docker/cli': {
          const cli = dockerCli(discovery, url.searchParams, options.pluginName);
          const args = [`--volume-driver=${cli.VolumeDriver}`, ...cli.Volumes.map((v) => `--volume=${v}`), ...cli.Devices.map((d) => `--device=${d}`)];
          return send(res, 200, `${args.join(' ')}\n`, 'text/plain; charset=utf-8');
        }
        case '/docker/cli/json':
          return send(res, 200, `${JSON.stringify(dockerCli(discovery, url.searchParams, options.pluginName))}\n`, 'application/json');
        default:
          throw new HttpError(404, `no such resource: ${url.pathname}`);
      }
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      send(res, status, `${(err as Error).message}\n`, 'text/plain; charset=utf-8');
    }
  });
  server.maxConnections = REST_LIMITS.maxConnections;
  server.setTimeout(REST_LIMITS.idleTimeoutMs, (socket) => socket.destroy());
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
