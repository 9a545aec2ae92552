// A small YAML reader for JSON-shaped documents (what a CDI spec is): block mappings and
// sequences (also a sequence at its key's indentation, as Go's yaml.v2 writes them), plain,
// single- and double-quoted scalars with the YAML 1.2 core schema (null, booleans, numbers),
// one-line flow collections (`[a, "b"]`, `{}`), comments and one optional `---` document. What it
// does not read (anchors, aliases, tags, block scalars, multi-line scalars, several documents)
// is an error naming the line, never a guess. Browser-safe.

export class YamlError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
  }
}

interface Line {
  /** 1-based line number in the text. */
  number: number;
  indent: number;
  /** The line without its indentation (comments still in it). */
  text: string;
}

/** Deeper nesting is refused (no CDI spec comes close; a hostile file must not exhaust the stack). */
export const MAX_YAML_DEPTH = 200;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NULL = /^(~|null|Null|NULL)$/;
const TRUE = /^(true|True|TRUE)$/;
const FALSE = /^(false|False|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const OCT = /^0o[0-7]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INF = /^[-+]?\.(inf|Inf|INF)$/;
const NAN = /^\.(nan|NaN|NAN)$/;

/** A plain scalar's value under the YAML 1.2 core schema. */
function resolvePlain(text: string): Json {
  if (text === '' || NULL.test(text)) return null;
  if (TRUE.test(text)) return true;
  if (FALSE.test(text)) return false;
  if (INT.test(text) || FLOAT.test(text)) return Number(text);
  if (OCT.test(text)) return parseInt(text.slice(2), 8);
  if (HEX.test(text)) return parseInt(text.slice(2), 16);
  if (INF.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (NAN.test(text)) return NaN;
  return text;
}

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\x85', _: '\xa0', L: '\u2028', P: '\u2029',
};
const HEX_ESCAPE: Record<string, number> = { x: 2, u: 4, U: 8 };

/** Reads scalars and flow collections from one line, from `pos`. */
class Cursor {
  pos: number;
  constructor(readonly text: string, readonly line: number, pos = 0, readonly depth = 0) {
    this.pos = pos;
  }

  private flowDepth = 0;

  private enter(): void {
    if (this.depth + ++this.flowDepth > MAX_YAML_DEPTH) this.fail(`nesting deeper than ${MAX_YAML_DEPTH} levels`);
  }

  fail(message: string): never {
    throw new YamlError(message, this.line);
  }

  skipSpaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  /** True when only spaces and a comment remain. */
  atEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.text.length || this.text[this.pos] === '#';
  }

  doubleQuoted(): string {
    let out = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === '"') {
        this.pos = i + 1;
        return out;
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[++i];
      if (e === undefined) break;
      if (Object.hasOwn(ESCAPES, e)) out += ESCAPES[e];
      else if (Object.hasOwn(HEX_ESCAPE, e)) {
        const digits = this.text.slice(i + 1, i + 1 + HEX_ESCAPE[e]!);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== HEX_ESCAPE[e]) this.fail(`bad escape '\\${e}${digits}'`);
        const code = parseInt(digits, 16);
        if (code > 0x10ffff) this.fail(`bad escape '\\${e}${digits}'`);
        out += String.fromCodePoint(code);
        i += digits.length;
      } else this.fail(`unknown escape '\\${e}'`);
    }
    return this.fail('a double-quoted string does not end on its line (multi-line strings are not supported)');
  }

  singleQuoted(): string {
    let out = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c !== "'") out += c;
      else if (this.text[i + 1] === "'") {
        out += "'";
        i++;
      } else {
        this.pos = i + 1;
        return out;
      }
    }
    return this.fail('a single-quoted string does not end on its line (multi-line strings are not supported)');
  }

  /** A plain scalar up to ` #`, the end, or (in flow context) `,` `]` `}`; in a key, up to `: `. */
  plain(flow: boolean, key: boolean): string {
    const start = this.pos;
    let i = this.pos;
    for (; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === '#' && (this.text[i - 1] === ' ' || this.text[i - 1] === '\t')) break;
      if (c === ':' && (i + 1 === this.text.length || ' \t'.includes(this.text[i + 1]!) || (flow && ',]}'.includes(this.text[i + 1]!)))) {
        if (key || flow) break;
        this.fail(`':' in an unquoted value (quote it, or this is a nested mapping on one line)`);
      }
      if (flow && ',[]{}'.includes(c)) break;
    }
    this.pos = i;
    return this.text.slice(start, i).trimEnd();
  }

  /** Rejects what this reader does not take, at the start of a node. */
  checkIndicator(): void {
    const c = this.text[this.pos];
    if (c === '&' || c === '*') this.fail('anchors and aliases are not supported');
    if (c === '!') this.fail('tags are not supported');
    if (c === '|' || c === '>') this.fail('block scalars (| and >) are not supported');
    if (c === '?') this.fail('complex keys (?) are not supported');
    if (c === '@' || c === '`') this.fail(`'${c}' cannot start a value`);
  }

  /** A scalar or flow collection. */
  value(flow: boolean): Json {
    this.skipSpaces();
    this.checkIndicator();
    const c = this.text[this.pos];
    if (c === '"') return this.doubleQuoted();
    if (c === "'") return this.singleQuoted();
    if (c === '[') return this.flowSequence();
    if (c === '{') return this.flowMapping();
    return resolvePlain(this.plain(flow, false));
  }

  flowSequence(): Json[] {
    this.enter();
    this.pos++;
    const out: Json[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.text[this.pos] === ']') {
        this.pos++;
        this.flowDepth--;
        return out;
      }
      if (this.pos >= this.text.length) this.fail("a flow sequence '[' does not end on its line");
      out.push(this.value(true));
      this.skipSpaces();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== ']') this.fail("expected ',' or ']' in a flow sequence");
    }
  }

  flowMapping(): { [key: string]: Json } {
    this.enter();
    this.pos++;
    const out: { [key: string]: Json } = {};
    for (;;) {
      this.skipSpaces();
      if (this.text[this.pos] === '}') {
        this.pos++;
        this.flowDepth--;
        return out;
      }
      if (this.pos >= this.text.length) this.fail("a flow mapping '{' does not end on its line");
      const key = this.key(true);
      this.skipSpaces();
      const value = this.text[this.pos] === ',' || this.text[this.pos] === '}' ? null : this.value(true);
      setKey(out, key, value, this.line);
      this.skipSpaces();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}' in a flow mapping");
    }
  }

  /** A mapping key and its ':'. */
  key(flow: boolean): string {
    this.skipSpaces();
    this.checkIndicator();
    const c = this.text[this.pos];
    let key: string;
    if (c === '"') key = this.doubleQuoted();
    else if (c === "'") key = this.singleQuoted();
    else if (c === '[' || c === '{') return this.fail('collections as keys are not supported');
    else {
      const plain = this.plain(flow, true);
      const resolved = resolvePlain(plain);
      key = resolved === null ? 'null' : String(plain);
    }
    this.skipSpaces();
    if (this.text[this.pos] !== ':') this.fail(`expected ':' after the key '${key}'`);
    this.pos++;
    return key;
  }
}

function setKey(map: { [key: string]: Json }, key: string, value: Json, line: number): void {
  if (Object.hasOwn(map, key)) throw new YamlError(`duplicate key '${key}'`, line);
  // A key named __proto__ is data here, never the object's prototype.
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

/** True when `text` (a line without its indentation) is a sequence item: `-` then a space or the end. */
function isItem(text: string): boolean {
  return text[0] === '-' && (text.length === 1 || text[1] === ' ' || text[1] === '\t');
}

function isComment(text: string): boolean {
  return text === '' || text[0] === '#';
}

class Reader {
  i = 0;
  depth = 0;
  constructor(readonly lines: Line[]) {}

  get current(): Line | undefined {
    return this.lines[this.i];
  }

  /** A node whose first line is the current one, at that line's indentation. */
  node(): Json {
    if (++this.depth > MAX_YAML_DEPTH) throw new YamlError(`nesting deeper than ${MAX_YAML_DEPTH} levels`, this.current!.number);
    try {
      return this.nodeAt(this.current!);
    } finally {
      this.depth--;
    }
  }

  private nodeAt(line: Line): Json {
    if (isItem(line.text)) return this.sequence(line.indent);
    const cursor = new Cursor(line.text, line.number, 0, this.depth);
    cursor.checkIndicator();
    const first = line.text[0];
    if (first === '[' || first === '{' || first === '"' || first === "'") {
      // A flow collection or quoted scalar, unless it is a quoted key.
      const probe = new Cursor(line.text, line.number, 0, this.depth);
      const value = probe.value(false);
      if (probe.atEnd()) {
        this.i++;
        return value;
      }
    }
    if (this.looksLikeKey(line)) return this.mapping(line.indent);
    const value = cursor.value(false);
    if (!cursor.atEnd()) cursor.fail('unexpected text after a value');
    this.i++;
    return value;
  }

  looksLikeKey(line: Line): boolean {
    try {
      new Cursor(line.text, line.number).key(false);
      return true;
    } catch {
      return false;
    }
  }

  /** The value after `key:` or `-` with nothing on its line: the indented block below, or null. */
  childBlock(parentIndent: number, allowSameIndentSequence: boolean): Json {
    const next = this.current;
    if (next === undefined) return null;
    if (next.indent > parentIndent) return this.node();
    if (allowSameIndentSequence && next.indent === parentIndent && isItem(next.text)) return this.sequence(parentIndent);
    return null;
  }

  sequence(indent: number): Json[] {
    const out: Json[] = [];
    for (let line = this.current; line !== undefined && line.indent === indent && isItem(line.text); line = this.current) {
      const rest = line.text.slice(1);
      const offset = rest.length - rest.trimStart().length;
      if (rest.trim() === '' || rest.trimStart()[0] === '#') {
        this.i++;
        out.push(this.childBlock(indent, false));
      } else {
        // `- key: value` or `- - x`: the rest is a node at the column where it starts.
        this.lines[this.i] = { number: line.number, indent: indent + 1 + offset, text: rest.slice(offset) };
        out.push(this.node());
      }
    }
    this.checkDedent(indent);
    return out;
  }

  mapping(indent: number): { [key: string]: Json } {
    const out: { [key: string]: Json } = {};
    for (let line = this.current; line !== undefined && line.indent === indent; line = this.current) {
      if (isItem(line.text)) throw new YamlError('a sequence item where a mapping key was expected', line.number);
      const cursor = new Cursor(line.text, line.number, 0, this.depth);
      const key = cursor.key(false);
      let value: Json;
      if (cursor.atEnd()) {
        this.i++;
        value = this.childBlock(indent, true);
      } else {
        value = cursor.value(false);
        if (!cursor.atEnd()) cursor.fail('unexpected text after a value');
        this.i++;
        const next = this.current;
        if (next !== undefined && next.indent > indent) {
          throw new YamlError('unexpected indentation (multi-line values are not supported)', next.number);
        }
      }
      setKey(out, key, value, line.number);
    }
    this.checkDedent(indent);
    return out;
  }

  /** After a block at `indent`, the next line must belong to an enclosing block. */
  checkDedent(indent: number): void {
    const next = this.current;
    if (next !== undefined && next.indent > indent) throw new YamlError('unexpected indentation', next.number);
  }
}

/** Parses a YAML document of JSON-shaped data. Throws a YamlError naming the line. */
export function parseYaml(text: string): unknown {
  const raw = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const lines: Line[] = [];
  let documents = 0;
  let ended = false;
  for (let n = 0; n < raw.length; n++) {
    const full = raw[n]!;
    const body = full.trimStart();
    const indentText = full.slice(0, full.length - body.length);
    if (isComment(body.trimEnd())) continue;
    if (indentText.includes('\t')) throw new YamlError('a tab in the indentation', n + 1);
    if (full.startsWith('%')) throw new YamlError('directives (%) are not supported', n + 1);
    if (/^---(\s|$)/.test(full)) {
      if (++documents > 1 || lines.length > 0) throw new YamlError('only one document is supported', n + 1);
      const rest = full.slice(3).trim();
      if (rest !== '' && rest[0] !== '#') lines.push({ number: n + 1, indent: 4, text: rest });
      continue;
    }
    if (/^\.\.\.(\s|$)/.test(full)) {
      ended = true;
      continue;
    }
    if (ended) throw new YamlError('only one document is supported', n + 1);
    lines.push({ number: n + 1, indent: indentText.length, text: body.trimEnd() });
  }
  if (lines.length === 0) return null;
  const reader = new Reader(lines);
  const value = reader.node();
  const left = reader.current;
  if (left !== undefined) throw new YamlError('unexpected text after the document (check the indentation)', left.number);
  return value;
}
