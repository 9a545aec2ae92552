// Serves a DriverVolumePlugin over HTTP on a unix socket, as dockerd expects
// (`/run/docker/plugins/<name>.sock`, POST, `application/vnd.docker.plugins.v1+json`). The socket
// is created mode 0600; a stale socket file of a dead plugin is replaced (dockerd would otherwise
// retry it for ~15 s per call); a live one is refused; closing removes the socket file.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostError } from './errors.js';
import { makeDirectories } from './make-dirs.js';
import { lstatOrNull } from './volume-fs.js';
import type { DriverVolumePlugin } from './plugin-handlers.js';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';
export const DEFAULT_PLUGIN_DIR = '/run/docker/plugins';
/** Requests are a name and an ID: anything larger is not from dockerd. */
const MAX_BODY = 64 * 1024;
/** The socket is root's only (0600); still, a runaway client cannot hold more than this many connections. */
const MAX_CONNECTIONS = 256;

export interface PluginServer {
  socket: string;
  server: Server;
  /** Stops accepting, ends open connections, removes the socket file. */
  close(): Promise<void>;
}

export interface PluginServerOptions {
  socket: string;
  plugin: DriverVolumePlugin;
  /** One line per request, for `--verbose` style logging. */
  log?: (line: string) => void;
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = connect(path);
    client.once('connect', () => {
      client.destroy();
      resolve(true);
    });
    client.once('error', () => resolve(false));
  });
}

/** Clears the way for our socket: removes a dead one, refuses a live one or any other file. */
async function prepareSocketPath(socket: string): Promise<void> {
  await makeDirectories(dirname(socket), 0o700);
  const info = await lstatOrNull(socket);
  if (info === null) return;
  if (!info.isSocket()) throw new HostError('EEXIST', socket, 'exists and is not a socket; refusing to replace it');
  if (await socketAnswers(socket)) throw new HostError('EADDRINUSE', socket, 'another plugin is listening there');
  await unlink(socket);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit, keep reading (and dropping) so the client can finish and read the 413.
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startPluginServer(options: PluginServerOptions): Promise<PluginServer> {
  const { socket, plugin, log } = options;
  await prepareSocketPath(socket);

  // dockerd makes a few calls at a time; a Mount may take seconds (a build), so no idle timeout
  // here, only bounds on how long a client may take to send its request.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    void (async () => {
      const method = (req.url ?? '').split('?')[0] ?? '';
      if (req.method !== 'POST') {
        reply(res, 404, { Err: `${req.method ?? '?'} not supported: the plugin protocol uses POST` });
        return;
      }
      const body = await readBody(req);
      if (body === null) {
        reply(res, 413, { Err: 'request body too large' });
        return;
      }
      const answer = await plugin.handle(method, body);
      log?.(`${method} ${body.trim()} -> ${JSON.stringify(answer.body)}`);
      reply(res, answer.status, answer.body);
    })().catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, { Err: `internal error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, sock) => sock.destroy());
  server.maxConnections = MAX_CONNECTIONS;

  // The socket must never be reachable by others, not even between listen() and chmod().
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previousUmask);
  }
  await chmod(socket, 0o600);

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Node removes the socket on close; make sure, as a stale socket costs dockerd ~15 s a call.
      await unlink(socket).catch(() => undefined);
    })();
    return closing;
  };
  return { socket, server, close };
}
