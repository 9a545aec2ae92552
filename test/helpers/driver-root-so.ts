// gcc-built shared objects for the driver-root builder: one compiled stub per ABI (and per
// ABI-tag note), linked under any soname with DT_NEEDED entries recorded through link-time stubs.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Abi = 'x86-64' | 'i386';

/** Runs gcc jobs a few at a time: the machine's cores are shared. */
export class Jobs {
  private readonly queue: (() => Promise<void>)[] = [];
  add(job: () => Promise<void>): void {
    this.queue.push(job);
  }
  async drain(parallel = 3): Promise<void> {
    const worker = async (): Promise<void> => {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  }
}

const abiNote = (major: number, minor: number, patch: number): string =>
  `__asm__(".section .note.ABI-tag,\\"a\\",@note\\n.balign 4\\n.long 4, 16, 1\\n.asciz \\"GNU\\"\\n.long 0, ${major}, ${minor}, ${patch}\\n.previous");\n`;

/** Builds shared objects for one ABI from a few compiled stubs. */
export class SoBuilder {
  private readonly objects = new Map<string, Promise<string>>();
  private readonly stubs = new Map<string, Promise<string>>();
  constructor(
    private readonly work: string,
    readonly abi: Abi,
  ) {}

  private flags(): string[] {
    return this.abi === 'i386' ? ['-m32', '-nostdlib'] : [];
  }

  private object(kind: 'plain' | 'tls-ok' | 'tls-bad'): Promise<string> {
    let made = this.objects.get(kind);
    if (!made) {
      const source =
        'int nv_stub_entry(void) { return 0; }\n' + (kind === 'tls-ok' ? abiNote(2, 3, 99) : kind === 'tls-bad' ? abiNote(2, 2, 5) : '');
      const out = join(this.work, `${this.abi}-${kind}.o`);
      const cc = async (): Promise<string> => {
        await mkdir(this.work, { recursive: true });
        await writeFile(`${out}.c`, source);
        await run('gcc', [...this.flags(), '-fPIC', '-c', '-o', out, `${out}.c`]);
        return out;
      };
      made = cc();
      this.objects.set(kind, made);
    }
    return made;
  }

  /** A link-time stand-in for `soname`, so that DT_NEEDED records it. */
  private stub(soname: string): Promise<string> {
    let made = this.stubs.get(soname);
    if (!made) {
      const out = join(this.work, `${this.abi}-stub-${soname}`);
      made = this.object('plain').then(async (obj) => {
        await run('gcc', [...this.flags(), '-shared', `-Wl,-soname,${soname}`, '-o', out, obj]);
        return out;
      });
      this.stubs.set(soname, made);
    }
    return made;
  }

  async build(out: string, soname: string, needed: string[] = [], kind: 'plain' | 'tls-ok' | 'tls-bad' = 'plain'): Promise<void> {
    // i386 objects get libc6 flags from ldconfig only with a DT_NEEDED libc.so.6.
    const deps = this.abi === 'i386' ? [...needed, 'libc.so.6'] : needed;
    const [obj, ...stubs] = await Promise.all([this.object(kind), ...deps.map((name) => this.stub(name))]);
    await mkdir(dirname(out), { recursive: true });
    await run('gcc', [...this.flags(), '-shared', `-Wl,-soname,${soname}`, '-Wl,--no-as-needed', '-o', out, obj!, ...stubs]);
  }
}
