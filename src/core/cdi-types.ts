// The Container Device Interface (CDI) spec document, as far as this package writes it.
// Field names and shapes follow cncf-tags/container-device-interface (specs-go). Browser-safe.

export interface CdiDeviceNode {
  /** Path of the node inside the container. */
  path: string;
  /** Path of the node on the host, when it differs from `path` (cdiVersion 0.5.0). */
  hostPath?: string;
  type?: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  options?: string[];
  /** Filesystem type (cdiVersion 0.4.0). */
  type?: string;
}

export type CdiHookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface CdiHook {
  hookName: CdiHookName;
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface CdiContainerEdits {
  env?: string[];
  deviceNodes?: CdiDeviceNode[];
  hooks?: CdiHook[];
  mounts?: CdiMount[];
}

export interface CdiDevice {
  name: string;
  containerEdits: CdiContainerEdits;
}

export interface CdiSpec {
  cdiVersion: string;
  kind: string;
  devices: CdiDevice[];
  containerEdits?: CdiContainerEdits;
}
