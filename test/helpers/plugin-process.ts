// The built `nvidia-volume plugin` as a child process, for tests with a real engine: started with
// the given arguments, resolved once it says it is listening, its output kept for assertions.
import { spawn, type ChildProcess } from 'node:child_process';

export interface PluginProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  log(): string;
}

export async function startPluginProcess(nvidiaVolume: string, args: string[]): Promise<PluginProcess> {
  let log = '';
  const child = spawn(process.execPath, [nvidiaVolume, 'plugin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!log.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`plugin did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, log: () => log };
}
