// The straightforward way to read ld.so.cache in JavaScript: DataView for the numbers,
// TextDecoder for the strings, an object per entry. It is the baseline the wasm core is
// measured against, and the tests use it as an independent second reader of real caches.
// It checks what a safe parser must (spec section 14) and throws a plain Error otherwise.

const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const EXTENSION_MAGIC = 0xeaa42174;
const decoder = new TextDecoder('utf-8');

function ascii(bytes, at, length) {
  let s = '';
  for (let i = 0; i < length && at + i < bytes.length; i++) s += String.fromCharCode(bytes[at + i]);
  return s;
}

/** Offset and length of the NUL-terminated string at `at`. */
function cString(bytes, at) {
  if (at >= bytes.length) throw new Error(`string offset ${at} past the end`);
  const end = bytes.indexOf(0, at);
  if (end < 0) throw new Error(`string at ${at} has no NUL`);
  return end - at;
}

function byteOrderOf(bytes, view, header) {
  const flag = bytes[header + 28] & 3;
  if (flag === 2) return true;
  if (flag === 3) return false;
  if (flag === 1) throw new Error('endianness flag says invalid');
  // Pre-2.33 writer: take the order in which the entry table fits.
  return header + 48 + 24 * view.getUint32(header + 20, true) <= bytes.length;
}

/**
 * Parses a cache. Returns { format, littleEndian, count, entries: [{ flags, name, path, osVersion, hwcap, hwcapName }], generator, hwcapDirs }.
 * With `{ decode: false }` names and paths stay as { nameOffset, nameLength, pathOffset, pathLength }.
 */
export function parseBaseline(bytes, { decode = true } = {}) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16) throw new Error('too short');
  let format;
  let header = 0;
  let oldCount = 0;
  let little = true;
  if (ascii(bytes, 0, 11) === OLD_MAGIC) {
    // Old table first; a compat file carries a new header right after it (8-aligned).
    little = 16 + 12 * view.getUint32(12, true) <= bytes.length;
    oldCount = view.getUint32(12, little);
    if (16 + 12 * oldCount > bytes.length) throw new Error('old table truncated');
    header = (16 + 12 * oldCount + 7) & ~7;
    format = header + 48 < bytes.length && ascii(bytes, header, 20) === NEW_MAGIC ? 'compat' : 'old';
    if (format === 'compat') little = byteOrderOf(bytes, view, header);
  } else if (ascii(bytes, 0, 20) === NEW_MAGIC) {
    if (bytes.length < 48) throw new Error('too short');
    format = 'new';
    little = byteOrderOf(bytes, view, 0);
  } else {
    throw new Error('bad magic');
  }

  const entries = [];
  let generator;
  const hwcapDirs = [];
  if (format === 'old') {
    const base = 16 + 12 * oldCount;
    for (let i = 0; i < oldCount; i++) {
      const at = 16 + 12 * i;
      entries.push(makeEntry(bytes, view.getInt32(at, little), base + view.getUint32(at + 4, little), base + view.getUint32(at + 8, little), 0, 0n, decode));
    }
    return { format, littleEndian: little, count: oldCount, entries, generator, hwcapDirs };
  }

  const count = view.getUint32(header + 20, little);
  if (header + 48 + 24 * count > bytes.length) throw new Error('new table truncated');
  const hwcapIndex = readExtensions(bytes, view, header, little);
  generator = hwcapIndex.generator;
  for (const at of hwcapIndex.names) hwcapDirs.push(decoder.decode(bytes.subarray(at, at + cString(bytes, at))));
  for (let i = 0; i < count; i++) {
    const at = header + 48 + 24 * i;
    const hwcap = view.getBigUint64(at + 16, little);
    const entry = makeEntry(bytes, view.getInt32(at, little), header + view.getUint32(at + 4, little), header + view.getUint32(at + 8, little), view.getUint32(at + 12, little), hwcap, decode);
    if (((hwcap >> 32n) & ~0x3ffn) === 0x40000000n) {
      const index = Number(hwcap & 0xffffffffn);
      if (index < hwcapDirs.length) entry.hwcapName = hwcapDirs[index];
    }
    entries.push(entry);
  }
  return { format, littleEndian: little, count, entries, generator, hwcapDirs };
}

function makeEntry(bytes, flags, nameAt, pathAt, osVersion, hwcap, decode) {
  const nameLength = cString(bytes, nameAt);
  const pathLength = cString(bytes, pathAt);
  if (!decode) return { flags, nameOffset: nameAt, nameLength, pathOffset: pathAt, pathLength, osVersion, hwcap };
  return {
    flags,
    name: decoder.decode(bytes.subarray(nameAt, nameAt + nameLength)),
    path: decoder.decode(bytes.subarray(pathAt, pathAt + pathLength)),
    osVersion,
    hwcap,
    hwcapName: undefined,
  };
}

function readExtensions(bytes, view, header, little) {
  const result = { generator: undefined, names: [] };
  const offset = view.getUint32(header + 32, little);
  if (offset === 0) return result;
  if (offset % 4 !== 0 || offset + 8 > bytes.length) throw new Error('bad extension offset');
  if (view.getUint32(offset, little) !== EXTENSION_MAGIC) throw new Error('bad extension magic');
  const count = view.getUint32(offset + 4, little);
  if (offset + 8 + 16 * count > bytes.length) throw new Error('extension directory truncated');
  for (let i = 0; i < count; i++) {
    const record = offset + 8 + 16 * i;
    const tag = view.getUint32(record, little);
    const at = view.getUint32(record + 8, little);
    const size = view.getUint32(record + 12, little);
    if (at + size > bytes.length) throw new Error('extension section past the end');
    if (tag === 0) result.generator = decoder.decode(bytes.subarray(at, at + size));
    if (tag === 1 && size > 0 && size % 4 === 0 && at % 4 === 0) {
      result.names = [];
      // Names resolve from the new header, as the writer stores them.
      for (let j = 0; j < size / 4; j++) result.names.push(header + view.getUint32(at + 4 * j, little));
    }
  }
  return result;
}
