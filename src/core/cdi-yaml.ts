// A small block-style YAML emitter for JSON-shaped data (what a CDI spec is). Every string value
// is double-quoted, so no value can turn into a number, boolean or null (a device named `0` stays
// the string "0", also under YAML 1.1 readers such as Go's yaml.v2). Browser-safe.

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// Keys YAML 1.1 would read as booleans or null.
const RESERVED_KEY = /^(y|n|yes|no|true|false|on|off|null)$/i;

/** Escapes for a YAML double-quoted scalar; anything not printable there becomes `\uXXXX`. */
export function yamlQuote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\t') out += '\\t';
    else if (
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) || // DEL and C1 controls are not printable in YAML
      code === 0x2028 || code === 0x2029 || // line and paragraph separators fold in YAML 1.1
      code === 0xfeff || code === 0xfffe || code === 0xffff ||
      (code >= 0xd800 && code <= 0xdfff) // a lone surrogate half
    ) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return `${out}"`;
}

function key(name: string): string {
  return PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : yamlQuote(name);
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return yamlQuote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as YAML`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  throw new TypeError(`cannot write a ${typeof value} as YAML`);
}

function isCollection(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isEmpty(value: object): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

/** Lines of `value` (a non-empty collection) at `indent` spaces. */
function block(value: object, indent: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCollection(item) && !isEmpty(item)) {
        // The first line of the item goes after the dash; the rest line up under it.
        const inner: string[] = [];
        block(item, indent + 2, inner);
        lines.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      } else {
        lines.push(`${pad}- ${item === undefined ? 'null' : inline(item)}`);
      }
    }
    return;
  }
  for (const [name, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (isCollection(item) && !isEmpty(item)) {
      lines.push(`${pad}${key(name)}:`);
      block(item, indent + 2, lines);
    } else {
      lines.push(`${pad}${key(name)}: ${inline(item)}`);
    }
  }
}

function inline(value: unknown): string {
  if (isCollection(value)) return Array.isArray(value) ? '[]' : '{}';
  return scalar(value);
}

/** `value` as a YAML document (no `---`), ending in a newline. */
export function toYaml(value: unknown): string {
  if (!isCollection(value) || isEmpty(value)) return `${inline(value)}\n`;
  const lines: string[] = [];
  block(value, 0, lines);
  return `${lines.join('\n')}\n`;
}
