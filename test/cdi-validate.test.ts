// The strict CDI validator: good specs pass, and each kind of bad spec an engine rejects is caught
// with a problem that says where.
import { describe, expect, it } from 'vitest';
import {
  cdiDeviceNameError,
  cdiKindError,
  compareCdiVersions,
  requiredCdiVersion,
  validateCdiSpec,
} from '../src/core/cdi-validate.js';

/** A valid 0.5.0 spec of the shape the generator writes; each test breaks one thing in a copy. */
function goodSpec(): Record<string, any> {
  return {
    cdiVersion: '0.5.0',
    kind: 'nvidia.com/gpu',
    devices: [
      { name: '0', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0', hostPath: '/r/dev/nvidia0' }] } },
      { name: 'GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0' }] } },
      { name: 'all', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0' }] } },
    ],
    containerEdits: {
      env: ['NVIDIA_VISIBLE_DEVICES=void'],
      deviceNodes: [{ path: '/dev/nvidiactl', type: 'c', major: 195, minor: 255, fileMode: 0o666, permissions: 'rw', uid: 0, gid: 0 }],
      mounts: [{ hostPath: '/usr/lib/libcuda.so.1', containerPath: '/usr/lib/libcuda.so.1', options: ['ro', 'nosuid', 'nodev', 'bind'] }],
      hooks: [{ hookName: 'createContainer', path: '/usr/bin/hook', args: ['hook', 'x'], env: ['A=b'], timeout: 5 }],
    },
  };
}

const problemsOf = (spec: unknown): string[] => validateCdiSpec(spec).problems.map((p) => `${p.where}: ${p.message}`);

describe('validateCdiSpec', () => {
  it('accepts a complete 0.5.0 spec and reports 0.5.0 as its minimum', () => {
    expect(problemsOf(goodSpec())).toEqual([]);
    expect(requiredCdiVersion(goodSpec())).toBe('0.5.0');
  });

  it('computes the lowest version from the fields and names used', () => {
    const spec = goodSpec();
    spec.devices = [{ name: 'gpu0', containerEdits: { env: ['A=1'] } }];
    delete spec.containerEdits;
    expect(requiredCdiVersion(spec)).toBe('0.3.0');
    spec.devices[0].containerEdits.mounts = [{ hostPath: '/a', containerPath: '/a', type: 'bind' }];
    expect(requiredCdiVersion(spec)).toBe('0.4.0');
    spec.devices[0].containerEdits.deviceNodes = [{ path: '/dev/x', hostPath: '/h/dev/x' }];
    expect(requiredCdiVersion(spec)).toBe('0.5.0');
    spec.kind = 'example.com/gpu.v2';
    expect(requiredCdiVersion(spec)).toBe('0.6.0');
    spec.devices[0].containerEdits.additionalGids = [44];
    expect(requiredCdiVersion(spec)).toBe('0.7.0');
    spec.containerEdits = { netDevices: [{ hostInterfaceName: 'eth1', name: 'net0' }] };
    expect(requiredCdiVersion(spec)).toBe('1.1.0');
  });

  it('rejects an unknown field, naming it and where it is', () => {
    const spec = goodSpec();
    spec.containerEdits.mounts[0].readonly = true;
    expect(problemsOf(spec)).toEqual(["containerEdits.mounts[0].readonly: unknown field 'readonly'"]);
    const top = goodSpec();
    top.containerRuntime = ['podman'];
    expect(problemsOf(top)).toEqual(["containerRuntime: unknown field 'containerRuntime'"]);
    // Field names are exact: a differently cased name is another field.
    const cased = goodSpec();
    cased.devices[0].ContainerEdits = cased.devices[0].containerEdits;
    delete cased.devices[0].containerEdits;
    expect(problemsOf(cased).join('\n')).toMatch(/devices\[0\]\.ContainerEdits: unknown field/);
  });

  it('rejects fields newer than the declared cdiVersion, even when empty', () => {
    const spec = goodSpec();
    spec.annotations = {};
    expect(problemsOf(spec)).toEqual(["annotations: field 'annotations' needs cdiVersion 0.6.0 or later (declared 0.5.0)"]);
    const device = goodSpec();
    device.devices[2].annotations = { 'nvidia.com/x': 'y' };
    expect(problemsOf(device)).toEqual(["devices[2].annotations: field 'annotations' needs cdiVersion 0.6.0 or later (declared 0.5.0)"]);
    device.cdiVersion = '0.6.0';
    expect(problemsOf(device)).toEqual([]);
    const rdt = goodSpec();
    rdt.containerEdits.intelRdt = { closID: 'gpu' };
    rdt.containerEdits.additionalGids = [44];
    expect(problemsOf(rdt)).toHaveLength(2);
    rdt.cdiVersion = '0.7.0';
    expect(problemsOf(rdt)).toEqual([]);
    rdt.containerEdits.intelRdt.schemata = ['L3:0=f'];
    expect(problemsOf(rdt)).toEqual(["containerEdits.intelRdt.schemata: field 'schemata' needs cdiVersion 1.1.0 or later (declared 0.7.0)"]);
  });

  it('rejects hostPath on a device node and digit-first names under 0.4.0', () => {
    const spec = goodSpec();
    spec.cdiVersion = '0.4.0';
    const problems = problemsOf(spec);
    expect(problems).toContain("devices[0].containerEdits.deviceNodes[0].hostPath: field 'hostPath' needs cdiVersion 0.5.0 or later (declared 0.4.0)");
    expect(problems).toContain("devices[0].name: device name '0' (starts with a digit) needs cdiVersion 0.5.0 or later (declared 0.4.0)");
    expect(problems).toHaveLength(2);
  });

  it('rejects mount type under 0.3.0 and versions the loaders refuse', () => {
    const spec = goodSpec();
    spec.cdiVersion = '0.3.0';
    spec.devices = [{ name: 'a', containerEdits: { mounts: [{ hostPath: '/a', containerPath: '/a', type: 'none' }] } }];
    expect(problemsOf(spec)).toEqual(["devices[0].containerEdits.mounts[0].type: field 'type' needs cdiVersion 0.4.0 or later (declared 0.3.0)"]);
    expect(problemsOf({ ...goodSpec(), cdiVersion: '0.9.9' })).toEqual([
      "cdiVersion: unknown cdiVersion '0.9.9' (known: 0.1.0, 0.2.0, 0.3.0, 0.4.0, 0.5.0, 0.6.0, 0.7.0, 0.8.0, 1.0.0, 1.1.0)",
    ]);
    expect(problemsOf({ ...goodSpec(), cdiVersion: 'v0.5.0' })[0]).toMatch(/^cdiVersion: unknown cdiVersion 'v0.5.0'/);
    expect(problemsOf({ ...goodSpec(), cdiVersion: '0.2.0' })).toContain('cdiVersion: cdiVersion 0.2.0 is older than 0.3.0, the oldest the loaders accept');
  });

  it('requires cdiVersion, kind and devices', () => {
    for (const field of ['cdiVersion', 'kind', 'devices']) {
      const spec = goodSpec();
      delete spec[field];
      expect(problemsOf(spec)).toContain(`${field}: required field '${field}' is missing`);
    }
    expect(problemsOf({ ...goodSpec(), devices: [] })).toEqual(['devices: a spec needs at least one device']);
    const noName = goodSpec();
    delete noName.devices[1].name;
    expect(problemsOf(noName)).toEqual(["devices[1].name: required field 'name' is missing"]);
  });

  it('checks kind and device name syntax', () => {
    for (const kind of ['nvidia.com', 'nvidia.com/', '/gpu', 'nvidia.com/gpu/x', '1vendor.com/gpu', 'nvidia.com/gpu-', 'nvi dia.com/gpu', 'nvidia.com/g$u']) {
      expect(cdiKindError(kind), kind).not.toBeNull();
      expect(problemsOf({ ...goodSpec(), kind }).join('\n'), kind).toMatch(/^kind: /);
    }
    for (const kind of ['nvidia.com/gpu', 'foo.bar.baz/foo-bar123_B', 'a/b']) expect(cdiKindError(kind), kind).toBeNull();
    expect(cdiKindError(`v.com/${'c'.repeat(64)}`)).toMatch(/longer than 63/);
    for (const name of ['', '-0', 'gpu-', 'gpu 0', 'gpu/0', 'gpu=0']) {
      expect(cdiDeviceNameError(name), name).not.toBeNull();
    }
    for (const name of ['0', 'all', 'GPU-4cf8db2d-06c0', 'MIG-1:0', 'a.b_c']) expect(cdiDeviceNameError(name), name).toBeNull();
    const dup = goodSpec();
    dup.devices[1].name = '0';
    expect(problemsOf(dup)).toEqual(["devices[1].name: duplicate device name '0'"]);
  });

  it('requires absolute paths and well-formed edits', () => {
    const spec = goodSpec();
    spec.containerEdits.mounts[0].containerPath = 'usr/lib/libcuda.so.1';
    spec.containerEdits.mounts.push({ hostPath: '', containerPath: '/x' });
    spec.containerEdits.deviceNodes.push({ path: 'dev/nvidia1' }, { path: '/dev/x', type: 'x', major: -1, permissions: 'rwx' });
    spec.containerEdits.hooks.push({ hookName: 'beforeStart', path: 'hook', timeout: 0 });
    spec.containerEdits.env.push('NOEQUALS', '=value');
    spec.containerEdits.mounts[0].options = 'ro';
    expect(problemsOf(spec).sort()).toEqual(
      [
        "containerEdits.mounts[0].containerPath: must be an absolute path, not 'usr/lib/libcuda.so.1'",
        'containerEdits.mounts[0].options: must be an array, not string "ro"',
        'containerEdits.mounts[1].hostPath: must not be empty',
        "containerEdits.deviceNodes[1].path: must be an absolute path, not 'dev/nvidia1'",
        "containerEdits.deviceNodes[2].type: must be one of b, c, u, p, not 'x'",
        'containerEdits.deviceNodes[2].major: must be between 0 and 4294967295, not -1',
        "containerEdits.deviceNodes[2].permissions: may hold only r, w and m, not 'rwx'",
        "containerEdits.hooks[1].hookName: unknown hook name 'beforeStart'",
        "containerEdits.hooks[1].path: must be an absolute path, not 'hook'",
        'containerEdits.hooks[1].timeout: must be between 1 and 2147483647, not 0',
        "containerEdits.env[1]: must be NAME=VALUE, not 'NOEQUALS'",
        "containerEdits.env[2]: must be NAME=VALUE, not '=value'",
      ].sort(),
    );
  });

  it('rejects wrong types and a device without edits', () => {
    expect(problemsOf(null)).toEqual([': must be an object, not null']);
    expect(problemsOf([])).toEqual([': must be an object, not an array']);
    const spec = goodSpec();
    spec.kind = 7;
    spec.devices[0].containerEdits.deviceNodes[0].major = 1.5;
    spec.devices[1].containerEdits = {};
    spec.devices[2].containerEdits = { deviceNodes: 'x' };
    expect(problemsOf(spec)).toEqual([
      'kind: must be a string, not number 7',
      'devices[0].containerEdits.deviceNodes[0].major: must be an integer, not number 1.5',
      'devices[1].containerEdits: a device needs at least one edit',
      'devices[2].containerEdits.deviceNodes: must be an array, not string "x"',
    ]);
  });

  it('orders versions numerically', () => {
    expect(compareCdiVersions('0.10.0', '0.9.0')).toBeGreaterThan(0);
    expect(compareCdiVersions('1.0.0', '0.8.0')).toBeGreaterThan(0);
    expect(compareCdiVersions('0.5.0', '0.5.0')).toBe(0);
  });
});
