// A strict validator for CDI spec documents. Engines decode specs strictly: a field they do not
// know (misspelt, or from a later cdiVersion than the one they implement) rejects the whole file,
// and newer loaders reject a spec whose declared cdiVersion is lower than its fields need. The
// JSON schema of the CDI repository checks neither, so this walks the document field by field.
// Field lists and versions: cncf-tags/container-device-interface SPEC.md and specs-go. Browser-safe.

export interface CdiProblem {
  /** Where in the document, e.g. `devices[1].containerEdits.mounts[0].containerPath`. */
  where: string;
  message: string;
}

/** Every released cdiVersion, oldest first. */
export const CDI_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.4.0', '0.5.0', '0.6.0', '0.7.0', '0.8.0', '1.0.0', '1.1.0'] as const;
/** The oldest version the current loaders take; every 0.3.0 field is in it. */
const BASE_VERSION = '0.3.0';
const LATEST_VERSION = CDI_VERSIONS[CDI_VERSIONS.length - 1];

export function isKnownCdiVersion(version: string): boolean {
  return (CDI_VERSIONS as readonly string[]).includes(version);
}

/** Compares `X.Y.Z` versions numerically: negative, 0 or positive. */
export function compareCdiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// The fields each object may carry, with the cdiVersion that introduced each.
type FieldTable = Record<string, string>;
const SPEC_FIELDS: FieldTable = { cdiVersion: BASE_VERSION, kind: BASE_VERSION, devices: BASE_VERSION, containerEdits: BASE_VERSION, annotations: '0.6.0' };
const DEVICE_FIELDS: FieldTable = { name: BASE_VERSION, containerEdits: BASE_VERSION, annotations: '0.6.0' };
const EDITS_FIELDS: FieldTable = {
  env: BASE_VERSION, deviceNodes: BASE_VERSION, hooks: BASE_VERSION, mounts: BASE_VERSION,
  intelRdt: '0.7.0', additionalGids: '0.7.0', netDevices: '1.1.0',
};
const NODE_FIELDS: FieldTable = {
  path: BASE_VERSION, hostPath: '0.5.0', type: BASE_VERSION, major: BASE_VERSION, minor: BASE_VERSION,
  fileMode: BASE_VERSION, permissions: BASE_VERSION, uid: BASE_VERSION, gid: BASE_VERSION,
};
const MOUNT_FIELDS: FieldTable = { hostPath: BASE_VERSION, containerPath: BASE_VERSION, options: BASE_VERSION, type: '0.4.0' };
const HOOK_FIELDS: FieldTable = { hookName: BASE_VERSION, path: BASE_VERSION, args: BASE_VERSION, env: BASE_VERSION, timeout: BASE_VERSION };
// Inner fields that came with their parent carry the base version: the parent is reported.
const RDT_FIELDS: FieldTable = {
  closID: BASE_VERSION, l3CacheSchema: BASE_VERSION, memBwSchema: BASE_VERSION, enableCMT: BASE_VERSION, enableMBM: BASE_VERSION,
  schemata: '1.1.0', enableMonitoring: '1.1.0',
};
const NET_DEVICE_FIELDS: FieldTable = { hostInterfaceName: BASE_VERSION, name: BASE_VERSION };

const HOOK_NAMES = new Set(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
const NODE_TYPES = new Set(['', 'b', 'c', 'u', 'p']);
const UINT32_MAX = 0xffff_ffff;

type Json = Record<string, unknown>;

/** Walk state: the declared version, the problems found and the version the content needs. */
class Walk {
  readonly problems: CdiProblem[] = [];
  required = BASE_VERSION;
  constructor(readonly declared: string) {}

  fail(where: string, message: string): void {
    this.problems.push({ where, message });
  }

  /** Records that `what` at `where` needs `version`; a problem when the declared version is older. */
  need(version: string, where: string, what: string): void {
    if (compareCdiVersions(version, this.required) > 0) this.required = version;
    if (compareCdiVersions(version, this.declared) > 0) {
      this.fail(where, `${what} needs cdiVersion ${version} or later (declared ${this.declared})`);
    }
  }

  /** Checks `value` is an object with only known fields; returns it, or null after a problem. */
  object(value: unknown, where: string, fields: FieldTable, required: string[]): Json | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(where, `must be an object, not ${describe(value)}`);
      return null;
    }
    const obj = value as Json;
    for (const key of Object.keys(obj)) {
      const at = join(where, key);
      if (!Object.hasOwn(fields, key)) this.fail(at, `unknown field '${key}'`);
      else this.need(fields[key], at, `field '${key}'`);
    }
    for (const key of required) {
      if (!Object.hasOwn(obj, key)) this.fail(join(where, key), `required field '${key}' is missing`);
    }
    return obj;
  }

  array(value: unknown, where: string): unknown[] | null {
    if (value === undefined) return null;
    if (!Array.isArray(value)) {
      this.fail(where, `must be an array, not ${describe(value)}`);
      return null;
    }
    return value;
  }

  string(value: unknown, where: string, nonEmpty = false): string | null {
    if (value === undefined) return null;
    if (typeof value !== 'string') {
      this.fail(where, `must be a string, not ${describe(value)}`);
      return null;
    }
    if (nonEmpty && value === '') this.fail(where, 'must not be empty');
    return value;
  }

  absolutePath(value: unknown, where: string): void {
    const path = this.string(value, where, true);
    if (path && !path.startsWith('/')) this.fail(where, `must be an absolute path, not '${path}'`);
    if (path && path.includes('\0')) this.fail(where, 'must not contain a NUL character');
  }

  strings(value: unknown, where: string): string[] | null {
    const list = this.array(value, where);
    if (!list) return null;
    list.forEach((item, i) => this.string(item, `${where}[${i}]`));
    return list.every((item) => typeof item === 'string') ? (list as string[]) : null;
  }

  integer(value: unknown, where: string, min: number, max: number): void {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(where, `must be an integer, not ${describe(value)}`);
    else if (value < min || value > max) this.fail(where, `must be between ${min} and ${max}, not ${value}`);
  }

  boolean(value: unknown, where: string): void {
    if (value !== undefined && typeof value !== 'boolean') this.fail(where, `must be a boolean, not ${describe(value)}`);
  }

  env(value: unknown, where: string): void {
    const list = this.strings(value, where);
    list?.forEach((entry, i) => {
      if (entry.indexOf('=') <= 0) this.fail(`${where}[${i}]`, `must be NAME=VALUE, not '${entry}'`);
    });
  }
}

function join(where: string, key: string): string {
  return where ? `${where}.${key}` : key;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

const isLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
const isAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);

/** Vendor or class of a kind: a letter first, alphanumerics last, `_ - .` and alphanumerics between. */
function kindSegmentError(segment: string, what: string): string | null {
  if (segment === '') return `empty ${what}`;
  if (!isLetter(segment[0])) return `${what} '${segment}' must start with a letter`;
  if (!isAlnum(segment[segment.length - 1])) return `${what} '${segment}' must end with a letter or digit`;
  const bad = [...segment.slice(1, -1)].find((c) => !isAlnum(c) && c !== '_' && c !== '-' && c !== '.');
  return bad === undefined ? null : `invalid character '${bad}' in ${what} '${segment}'`;
}

/** A device name: alphanumerics first and last, `_ - . :` and alphanumerics between. */
export function cdiDeviceNameError(name: string): string | null {
  if (name === '') return 'empty device name';
  if (!isAlnum(name[0])) return `device name '${name}' must start with a letter or digit`;
  if (!isAlnum(name[name.length - 1])) return `device name '${name}' must end with a letter or digit`;
  const bad = [...name.slice(1, -1)].find((c) => !isAlnum(c) && !'_-.:'.includes(c));
  return bad === undefined ? null : `invalid character '${bad}' in device name '${name}'`;
}

/** Checks a `vendor/class` kind; returns the first problem or null. */
export function cdiKindError(kind: string): string | null {
  const slash = kind.indexOf('/');
  if (slash <= 0 || slash === kind.length - 1) return `kind '${kind}' must be 'vendor/class'`;
  const vendor = kind.slice(0, slash);
  const cls = kind.slice(slash + 1);
  if (cls.includes('/')) return `kind '${kind}' must have exactly one '/'`;
  if (vendor.length > 253) return `vendor of kind '${kind}' is longer than 253 characters`;
  if (cls.length > 63) return `class of kind '${kind}' is longer than 63 characters`;
  return kindSegmentError(vendor, 'vendor') ?? kindSegmentError(cls, 'class');
}

function checkAnnotations(walk: Walk, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    walk.fail(where, `must be an object of strings, not ${describe(value)}`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === '') walk.fail(where, 'annotation keys must not be empty');
    walk.string(v, join(where, key));
  }
}

function checkDeviceNode(walk: Walk, value: unknown, where: string): void {
  const node = walk.object(value, where, NODE_FIELDS, ['path']);
  if (!node) return;
  walk.absolutePath(node.path, join(where, 'path'));
  if (node.hostPath !== undefined) walk.absolutePath(node.hostPath, join(where, 'hostPath'));
  const type = walk.string(node.type, join(where, 'type'));
  if (type !== null && !NODE_TYPES.has(type)) walk.fail(join(where, 'type'), `must be one of b, c, u, p, not '${type}'`);
  // Negative numbers are wildcards in device cgroup rules; the loaders refuse them.
  walk.integer(node.major, join(where, 'major'), 0, UINT32_MAX);
  walk.integer(node.minor, join(where, 'minor'), 0, UINT32_MAX);
  walk.integer(node.fileMode, join(where, 'fileMode'), 0, UINT32_MAX);
  walk.integer(node.uid, join(where, 'uid'), 0, UINT32_MAX);
  walk.integer(node.gid, join(where, 'gid'), 0, UINT32_MAX);
  const permissions = walk.string(node.permissions, join(where, 'permissions'));
  if (permissions !== null && !/^[rwm]*$/.test(permissions)) {
    walk.fail(join(where, 'permissions'), `may hold only r, w and m, not '${permissions}'`);
  }
}

function checkMount(walk: Walk, value: unknown, where: string): void {
  const mount = walk.object(value, where, MOUNT_FIELDS, ['hostPath', 'containerPath']);
  if (!mount) return;
  walk.absolutePath(mount.hostPath, join(where, 'hostPath'));
  walk.absolutePath(mount.containerPath, join(where, 'containerPath'));
  walk.strings(mount.options, join(where, 'options'));
  walk.string(mount.type, join(where, 'type'));
}

function checkHook(walk: Walk, value: unknown, where: string): void {
  const hook = walk.object(value, where, HOOK_FIELDS, ['hookName', 'path']);
  if (!hook) return;
  const name = walk.string(hook.hookName, join(where, 'hookName'));
  if (name !== null && !HOOK_NAMES.has(name)) walk.fail(join(where, 'hookName'), `unknown hook name '${name}'`);
  walk.absolutePath(hook.path, join(where, 'path'));
  walk.strings(hook.args, join(where, 'args'));
  walk.env(hook.env, join(where, 'env'));
  walk.integer(hook.timeout, join(where, 'timeout'), 1, 2 ** 31 - 1);
}

function checkIntelRdt(walk: Walk, value: unknown, where: string): void {
  const rdt = walk.object(value, where, RDT_FIELDS, []);
  if (!rdt) return;
  for (const key of ['closID', 'l3CacheSchema', 'memBwSchema']) walk.string(rdt[key], join(where, key));
  for (const key of ['enableCMT', 'enableMBM', 'enableMonitoring']) walk.boolean(rdt[key], join(where, key));
  walk.strings(rdt.schemata, join(where, 'schemata'));
  const clos = rdt.closID;
  if (typeof clos === 'string' && clos !== '/' && (clos.length >= 4096 || clos === '.' || clos === '..' || /[/\n]/.test(clos))) {
    walk.fail(join(where, 'closID'), `invalid CLOS name '${clos}'`);
  }
}

function checkNetDevices(walk: Walk, value: unknown, where: string): void {
  const list = walk.array(value, where);
  if (!list) return;
  const hosts = new Set<string>();
  const names = new Set<string>();
  list.forEach((item, i) => {
    const at = `${where}[${i}]`;
    const dev = walk.object(item, at, NET_DEVICE_FIELDS, ['hostInterfaceName', 'name']);
    if (!dev) return;
    const host = walk.string(dev.hostInterfaceName, join(at, 'hostInterfaceName'), true);
    const name = walk.string(dev.name, join(at, 'name'), true);
    if (host && hosts.has(host)) walk.fail(at, `duplicate hostInterfaceName '${host}'`);
    if (name && names.has(name)) walk.fail(at, `duplicate name '${name}'`);
    if (host) hosts.add(host);
    if (name) names.add(name);
  });
}

/** Checks containerEdits; returns whether it carries any edit (device edits must). */
function checkEdits(walk: Walk, value: unknown, where: string): boolean {
  const edits = walk.object(value, where, EDITS_FIELDS, []);
  if (!edits) return true;
  walk.env(edits.env, join(where, 'env'));
  walk.array(edits.deviceNodes, join(where, 'deviceNodes'))?.forEach((n, i) => checkDeviceNode(walk, n, `${where}.deviceNodes[${i}]`));
  walk.array(edits.mounts, join(where, 'mounts'))?.forEach((m, i) => checkMount(walk, m, `${where}.mounts[${i}]`));
  walk.array(edits.hooks, join(where, 'hooks'))?.forEach((h, i) => checkHook(walk, h, `${where}.hooks[${i}]`));
  if (edits.intelRdt !== undefined) checkIntelRdt(walk, edits.intelRdt, join(where, 'intelRdt'));
  const gids = walk.array(edits.additionalGids, join(where, 'additionalGids'));
  gids?.forEach((g, i) => walk.integer(g, `${where}.additionalGids[${i}]`, 0, UINT32_MAX));
  if (edits.netDevices !== undefined) checkNetDevices(walk, edits.netDevices, join(where, 'netDevices'));
  // A malformed list was reported above; do not also call the edits empty.
  return ['env', 'deviceNodes', 'mounts', 'hooks', 'additionalGids', 'netDevices'].some(
    (key) => edits[key] !== undefined && (!Array.isArray(edits[key]) || (edits[key] as unknown[]).length > 0),
  ) || edits.intelRdt !== undefined;
}

function checkDevice(walk: Walk, value: unknown, where: string, seen: Set<string>): void {
  const device = walk.object(value, where, DEVICE_FIELDS, ['name', 'containerEdits']);
  if (!device) return;
  const name = walk.string(device.name, join(where, 'name'));
  if (name !== null) {
    const error = cdiDeviceNameError(name);
    if (error) walk.fail(join(where, 'name'), error);
    // Names starting with a digit (GPU indexes) came with 0.5.0.
    else if (!isLetter(name[0])) walk.need('0.5.0', join(where, 'name'), `device name '${name}' (starts with a digit)`);
    if (seen.has(name)) walk.fail(join(where, 'name'), `duplicate device name '${name}'`);
    seen.add(name);
  }
  if (device.annotations !== undefined) checkAnnotations(walk, device.annotations, join(where, 'annotations'));
  if (device.containerEdits !== undefined && !checkEdits(walk, device.containerEdits, join(where, 'containerEdits'))) {
    walk.fail(join(where, 'containerEdits'), 'a device needs at least one edit');
  }
}

export interface CdiValidation {
  problems: CdiProblem[];
  /** The lowest cdiVersion that covers every field and name the document uses. */
  requiredVersion: string;
}

/** Validates a parsed CDI document strictly, against the cdiVersion it declares. */
export function validateCdiSpec(spec: unknown): CdiValidation {
  const declaredRaw = typeof spec === 'object' && spec !== null ? (spec as Json).cdiVersion : undefined;
  const known = typeof declaredRaw === 'string' && isKnownCdiVersion(declaredRaw) ? declaredRaw : LATEST_VERSION;
  // Field checks against a pre-0.3.0 declaration would repeat the one problem reported below.
  const walk = new Walk(compareCdiVersions(known, BASE_VERSION) < 0 ? BASE_VERSION : known);
  const root = walk.object(spec, '', SPEC_FIELDS, ['cdiVersion', 'kind', 'devices']);
  if (!root) return { problems: walk.problems, requiredVersion: walk.required };

  const version = walk.string(root.cdiVersion, 'cdiVersion');
  if (version !== null && !isKnownCdiVersion(version)) {
    walk.fail('cdiVersion', `unknown cdiVersion '${version}' (known: ${CDI_VERSIONS.join(', ')})`);
  } else if (version !== null && compareCdiVersions(version, BASE_VERSION) < 0) {
    // The loaders' minimum for any content is 0.3.0, so they refuse older declarations.
    walk.fail('cdiVersion', `cdiVersion ${version} is older than ${BASE_VERSION}, the oldest the loaders accept`);
  }
  const kind = walk.string(root.kind, 'kind');
  if (kind !== null) {
    const error = cdiKindError(kind);
    if (error) walk.fail('kind', error);
    else if (kind.slice(kind.indexOf('/') + 1).includes('.')) walk.need('0.6.0', 'kind', `a '.' in the class of kind '${kind}'`);
  }
  if (root.annotations !== undefined) checkAnnotations(walk, root.annotations, 'annotations');
  const devices = walk.array(root.devices, 'devices');
  if (devices && devices.length === 0) walk.fail('devices', 'a spec needs at least one device');
  const seen = new Set<string>();
  devices?.forEach((d, i) => checkDevice(walk, d, `devices[${i}]`, seen));
  if (root.containerEdits !== undefined) checkEdits(walk, root.containerEdits, 'containerEdits');
  return { problems: walk.problems, requiredVersion: walk.required };
}

/** The lowest cdiVersion that covers what `spec` uses (fields present, device names, kind). */
export function requiredCdiVersion(spec: unknown): string {
  return validateCdiSpec(spec).requiredVersion;
}

/** One line per problem: `where: message`. */
export function formatCdiProblems(problems: CdiProblem[]): string[] {
  return problems.map((p) => (p.where ? `${p.where}: ${p.message}` : p.message));
}
