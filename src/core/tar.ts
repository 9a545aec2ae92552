// A push-style tar reader (ustar, GNU and PAX headers), browser-safe. Chunks of any size go in
// with `push`; for each entry the visitor says how many bytes of its content it wants (usually
// none), and gets them in one piece. Everything else is skipped without copying, so a layer of
// any size costs memory only for what the visitor keeps. Names: ustar prefix + name, GNU `L`/`K`
// long names, PAX `path`/`linkpath`/`size` (per-file `x` and global `g`).

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarHeader {
  /** The name as stored (PAX/GNU long names applied), not normalized. */
  name: string;
  type: TarEntryType;
  /** The raw typeflag character ('0', '5', '2', …). */
  typeflag: string;
  size: number;
  mode: number;
  linkname: string;
  /** Byte offset of the header in the tar stream. */
  offset: number;
}

export interface TarVisitor {
  /**
   * Called for each entry; returns how many leading content bytes to hand to `content` (0: none),
   * or STREAM_CONTENT to get all of it, piece by piece, through `data` (then `content` with no bytes at its end).
   */
  entry(header: TarHeader): number;
  /** The first `wanted` content bytes of the entry last announced (fewer if the entry is shorter). */
  content?(header: TarHeader, bytes: Uint8Array): void;
  /** A piece of a streamed entry's content (a view into the pushed chunk: copy it to keep it). */
  data?(header: TarHeader, bytes: Uint8Array): void;
}

/** Returned by `TarVisitor.entry` for content handed over piece by piece. */
export const STREAM_CONTENT = -1;

export class TarError extends Error {
  override readonly name = 'TarError';
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

const BLOCK = 512;
/** Long names and PAX records larger than this are hostile. */
const MAX_META = 1 << 20;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  let ascii = true;
  while (end < start + length && block[end] !== 0) {
    if (block[end]! >= 0x80) ascii = false;
    end++;
  }
  // Names are almost always ASCII: skip the decoder's per-call cost for them.
  return ascii ? String.fromCharCode.apply(null, block.subarray(start, end) as unknown as number[]) : utf8.decode(block.subarray(start, end));
}

/** Octal field (NUL/space padded), or GNU base-256 when the high bit is set; NaN when invalid. */
function numeric(block: Uint8Array, start: number, length: number): number {
  if (block[start]! & 0x80) {
    if (block[start] === 0xff) return NaN; // negative
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) {
      value = value * 256 + block[i]!;
      if (value > Number.MAX_SAFE_INTEGER) return NaN;
    }
    return value;
  }
  let value = 0;
  let digits = 0;
  let i = start;
  while (i < start + length && block[i] === 0x20) i++;
  for (; i < start + length; i++) {
    const c = block[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) return NaN;
    value = value * 8 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? 0 : value;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumOk(block: Uint8Array): boolean {
  const stored = numeric(block, 148, 8);
  // The sum with the checksum field counted as spaces; old tars summed signed bytes.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < 148; i++) {
    const b = block[i]!;
    unsigned += b;
    if (b > 127) high++;
  }
  for (let i = 156; i < BLOCK; i++) {
    const b = block[i]!;
    unsigned += b;
    if (b > 127) high++;
  }
  return stored === unsigned || stored === unsigned - 256 * high;
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '5':
      return 'dir';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** PAX records `LEN key=value\n`. */
function parsePax(bytes: Uint8Array, offset: number): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] === 0) break;
    let space = at;
    while (space < bytes.length && bytes[space] !== 0x20) space++;
    const length = Number(latin1.decode(bytes.subarray(at, space)));
    if (!Number.isInteger(length) || length <= space - at || at + length > bytes.length) throw new TarError('malformed PAX header record', offset);
    const record = utf8.decode(bytes.subarray(space + 1, at + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * The records of global PAX headers (`g`), which apply to every later entry. Each header is at
 * most MAX_META, but they accumulate: all of them together are held to MAX_META too (1,500
 * headers of distinct 1 MiB keys, a 136 KB gzip layer, held 1.5 GB). Counted as they merge.
 */
class GlobalPax {
  readonly records = new Map<string, string>();
  private chars = 0;
  merge(records: Map<string, string>, offset: number): void {
    for (const [k, v] of records) {
      const old = this.records.get(k);
      this.chars += (old === undefined ? k.length : -old.length) + v.length;
      this.records.set(k, v);
    }
    if (this.chars > MAX_META) throw new TarError(`global PAX headers of more than ${MAX_META >> 20} MiB in all`, offset);
  }
}

type State = 'header' | 'data' | 'meta' | 'end';

/** Streaming tar reader: `push` chunks, then `end()`. Throws TarError on malformed input. */
export class TarReader {
  private state: State = 'header';
  private readonly block = new Uint8Array(BLOCK);
  private blockFill = 0;
  /** Stream offset of the next byte. */
  private position = 0;
  private current: TarHeader | null = null;
  /** Content bytes of the current entry not yet consumed, and the padding after them. */
  private remaining = 0;
  private padding = 0;
  private wanted = 0;
  private kept: Uint8Array | null = null;
  private keptFill = 0;
  private streaming = false;
  private metaKind = '';
  private longName: string | null = null;
  private longLink: string | null = null;
  private pax: Map<string, string> | null = null;
  private globalPax = new GlobalPax();
  private zeroBlocks = 0;

  constructor(private readonly visitor: TarVisitor) {}

  /** True once the end-of-archive marker was read. */
  get ended(): boolean {
    return this.state === 'end';
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'end') return; // anything after the end marker is ignored, as tar does
      if (this.state === 'header') {
        const take = Math.min(BLOCK - this.blockFill, chunk.length - at);
        this.block.set(chunk.subarray(at, at + take), this.blockFill);
        this.blockFill += take;
        at += take;
        this.position += take;
        if (this.blockFill === BLOCK) {
          this.blockFill = 0;
          this.header(this.position - BLOCK);
        }
        continue;
      }
      // data or meta: content then padding
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        if (this.streaming) this.visitor.data!(this.current!, chunk.subarray(at, at + take));
        else if (this.kept && this.keptFill < this.kept.length) {
          const copy = Math.min(take, this.kept.length - this.keptFill);
          this.kept.set(chunk.subarray(at, at + copy), this.keptFill);
          this.keptFill += copy;
        }
        this.remaining -= take;
        at += take;
        this.position += take;
        if (this.remaining === 0) this.contentDone();
        continue;
      }
      const skip = Math.min(this.padding, chunk.length - at);
      this.padding -= skip;
      at += skip;
      this.position += skip;
      if (this.padding === 0) this.state = 'header';
    }
    if (this.state !== 'header' && this.state !== 'end' && this.remaining === 0 && this.padding === 0) this.state = 'header';
  }

  /** Checks that the stream did not stop inside an entry (a missing end marker is tolerated, as GNU tar does). */
  end(): void {
    if (this.state === 'end') return;
    if (this.state === 'header' && this.blockFill === 0 && this.longName === null && this.longLink === null && this.pax === null) return;
    throw new TarError('truncated tar: the stream ends inside an entry', this.position);
  }

  private header(offset: number): void {
    const block = this.block;
    if (isZeroBlock(block)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.state = 'end';
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(block)) throw new TarError('not a tar header (bad checksum)', offset);
    const typeflag = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    if (!Number.isFinite(size)) throw new TarError('invalid size field in tar header', offset);
    const ustar = block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72;
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      if (size > MAX_META) throw new TarError(`tar ${typeflag === 'x' || typeflag === 'g' ? 'PAX header' : 'long name'} of ${size} bytes is implausibly large`, offset);
      this.metaKind = typeflag;
      this.current = null;
      this.beginContent(size, size, 'meta', offset);
      return;
    }
    let name = cString(block, 0, 100);
    if (ustar && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
    let linkname = cString(block, 157, 100);
    let realSize = size;
    if (this.longName !== null) name = this.longName;
    if (this.longLink !== null) linkname = this.longLink;
    for (const pax of [this.globalPax.records, this.pax]) {
      if (!pax) continue;
      if (pax.has('path')) name = pax.get('path')!;
      if (pax.has('linkpath')) linkname = pax.get('linkpath')!;
      if (pax.has('size')) {
        const s = Number(pax.get('size'));
        if (!Number.isSafeInteger(s) || s < 0) throw new TarError('invalid PAX size', offset);
        realSize = s;
      }
    }
    this.longName = null;
    this.longLink = null;
    this.pax = null;
    const type = typeOf(typeflag);
    // Links and directories carry no content, whatever the size field says (hard links may: ignore).
    const contentSize = type === 'file' || type === 'other' ? realSize : 0;
    const header: TarHeader = { name, type, typeflag, size: contentSize, mode: numeric(block, 100, 8) || 0, linkname, offset };
    this.current = header;
    const wanted = this.visitor.entry(header);
    this.streaming = wanted === STREAM_CONTENT && contentSize > 0;
    if (this.streaming && !this.visitor.data) throw new Error('TarVisitor: STREAM_CONTENT needs data()');
    this.beginContent(contentSize, this.streaming ? 0 : Math.max(0, Math.min(wanted, contentSize)), 'data', offset);
  }

  private beginContent(size: number, keep: number, state: State, _offset: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.wanted = keep;
    this.kept = keep > 0 ? new Uint8Array(keep) : null;
    this.keptFill = 0;
    this.state = state;
    if (size === 0) this.contentDone();
  }

  private contentDone(): void {
    const kept = this.kept ?? new Uint8Array(0);
    this.kept = null;
    if (this.state === 'meta') {
      const offset = this.position - kept.length;
      if (this.metaKind === 'L' || this.metaKind === 'K') {
        const nul = kept.indexOf(0);
        const text = utf8.decode(nul >= 0 ? kept.subarray(0, nul) : kept);
        if (this.metaKind === 'L') this.longName = text;
        else this.longLink = text;
      } else if (this.metaKind === 'x') {
        this.pax = parsePax(kept, offset);
      } else {
        this.globalPax.merge(parsePax(kept, offset), offset);
      }
    } else if (this.current && (this.wanted > 0 || this.streaming) && this.visitor.content) {
      this.visitor.content(this.current, kept);
    }
    this.streaming = false;
    if (this.padding === 0) this.state = 'header';
    else this.state = this.state === 'meta' ? 'meta' : 'data';
  }
}

/** One member of a tar read through random access: where its content starts and how long it is. */
export interface TarMember {
  name: string;
  type: TarEntryType;
  size: number;
  linkname: string;
  /** Offset of the content in the archive. */
  dataOffset: number;
}

/** Random access to an archive's bytes. */
export interface RandomAccess {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Bound on the members of an outer archive (a saved image has a handful per layer). */
const MAX_MEMBERS = 1_000_000;

/**
 * Lists a tar's members by reading only their headers (content is skipped by seeking), for
 * archives whose members are then read in an order the archive itself decides (manifest first).
 */
export async function indexTar(source: RandomAccess): Promise<TarMember[]> {
  const members: TarMember[] = [];
  const names: { long: string | null; link: string | null; pax: Map<string, string> | null } = { long: null, link: null, pax: null };
  const globalPax = new GlobalPax();
  let position = 0;
  let zeros = 0;
  while (position + BLOCK <= source.size) {
    const block = await source.read(position, BLOCK);
    if (block.length < BLOCK) break;
    if (isZeroBlock(block)) {
      position += BLOCK;
      if (++zeros >= 2) return members;
      continue;
    }
    zeros = 0;
    if (!checksumOk(block)) throw new TarError('not a tar header (bad checksum)', position);
    const typeflag = String.fromCharCode(block[156]!);
    let size = numeric(block, 124, 12);
    if (!Number.isFinite(size)) throw new TarError('invalid size field in tar header', position);
    const dataOffset = position + BLOCK;
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      if (size > MAX_META) throw new TarError(`tar metadata entry of ${size} bytes is implausibly large`, position);
      const bytes = await source.read(dataOffset, size);
      if (bytes.length < size) throw new TarError('truncated tar: the archive ends inside an entry', dataOffset + bytes.length);
      if (typeflag === 'L' || typeflag === 'K') {
        const nul = bytes.indexOf(0);
        const text = utf8.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
        if (typeflag === 'L') names.long = text;
        else names.link = text;
      } else if (typeflag === 'x') {
        names.pax = parsePax(bytes, dataOffset);
      } else {
        globalPax.merge(parsePax(bytes, dataOffset), dataOffset);
      }
      position = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    const ustar = block[257] === 0x75 && block[258] === 0x73 && block[259] === 0x74 && block[260] === 0x61 && block[261] === 0x72;
    let name = cString(block, 0, 100);
    if (ustar && block[345] !== 0) name = `${cString(block, 345, 155)}/${name}`;
    let linkname = cString(block, 157, 100);
    if (names.long !== null) name = names.long;
    if (names.link !== null) linkname = names.link;
    for (const pax of [globalPax.records, names.pax]) {
      if (!pax) continue;
      if (pax.has('path')) name = pax.get('path')!;
      if (pax.has('linkpath')) linkname = pax.get('linkpath')!;
      if (pax.has('size')) size = Number(pax.get('size'));
    }
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError('invalid PAX size', position);
    names.long = names.link = null;
    names.pax = null;
    const type = typeOf(typeflag);
    const contentSize = type === 'file' || type === 'other' ? size : 0;
    if (dataOffset + contentSize > source.size) throw new TarError(`truncated tar: member '${name}' runs past the end of the archive`, position);
    members.push({ name, type, size: contentSize, linkname, dataOffset });
    if (members.length > MAX_MEMBERS) throw new TarError(`more than ${MAX_MEMBERS} members`, position);
    position = dataOffset + Math.ceil(contentSize / BLOCK) * BLOCK;
  }
  if (position < source.size && members.length === 0) throw new TarError('not a tar archive (too short)', position);
  return members;
}
