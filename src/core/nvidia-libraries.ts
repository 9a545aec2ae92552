// Which shared objects belong to the NVIDIA user-space driver, by category (spec
// nvidia-driver-host.md sections 1, 6, 7). Shared by the browser-safe cache classifier and the
// Node discovery so that both answer the same. Browser-safe: no Node imports.

export type LibraryCategory = 'utility' | 'compute' | 'video' | 'graphics' | 'ngx' | 'dxcore';

/**
 * Library stems (`<stem>.so…`) by category: libnvidia-container's lists, plus the driver files
 * nvidia-container-toolkit adds (egl platform libraries, vulkan-producer, nvvm70, api).
 */
export const LIBRARY_STEMS: Readonly<Record<LibraryCategory, readonly string[]>> = {
  utility: ['libnvidia-ml', 'libnvidia-cfg', 'libnvidia-nscq'],
  compute: [
    'libcuda', 'libcudadebugger', 'libnvidia-opencl', 'libnvidia-gpucomp', 'libnvidia-ptxjitcompiler',
    'libnvidia-fatbinaryloader', 'libnvidia-allocator', 'libnvidia-compiler', 'libnvidia-pkcs11',
    'libnvidia-pkcs11-openssl3', 'libnvidia-nvvm', 'libnvidia-nvvm70', 'libnvidia-tileiras',
  ],
  video: ['libvdpau_nvidia', 'libnvidia-encode', 'libnvidia-opticalflow', 'libnvcuvid'],
  graphics: [
    'libnvidia-eglcore', 'libnvidia-glcore', 'libnvidia-tls', 'libnvidia-glsi', 'libnvidia-fbc', 'libnvidia-ifr',
    'libnvidia-rtcore', 'libnvoptix', 'libGLX_nvidia', 'libEGL_nvidia', 'libGLESv2_nvidia', 'libGLESv1_CM_nvidia',
    'libnvidia-glvkspirv', 'libnvidia-cbl', 'libnvidia-egl-wayland', 'libnvidia-egl-wayland2', 'libnvidia-egl-gbm',
    'libnvidia-egl-xcb', 'libnvidia-egl-xlib', 'libnvidia-vulkan-producer', 'libnvidia-api',
    // Pre-glvnd drivers (<= 390) shipped their own libGL/libEGL/libGLES*: kept only when they
    // pass the vendor check and carry the driver version.
    'libGL', 'libEGL', 'libGLESv1_CM', 'libGLESv2',
  ],
  ngx: ['libnvidia-ngx'],
  dxcore: ['libdxcore'],
};

/** GL/EGL/GLES stems that other vendors ship too: a DT_NEEDED check tells whose it is (spec section 6). */
export const VENDOR_CHECKED_STEMS: ReadonlySet<string> = new Set(['libGL', 'libEGL', 'libGLESv1_CM', 'libGLESv2']);

/** libglvnd's vendor-neutral loaders and dispatcher: not driver files, never selected. */
export const GLVND_STEMS: ReadonlySet<string> = new Set(['libGLX', 'libOpenGL', 'libGLdispatch']);

/**
 * Driver files whose names do not carry the driver version (spec section 7): separately
 * versioned projects (egl-wayland 1.1.10, egl-gbm 1.1.0), NVAPI's libnvidia-api.so.1, and 470's
 * libnvidia-nvvm.so.4.0.0. They are kept unless they sit among another driver version's files.
 */
export const UNVERSIONED_STEMS: ReadonlySet<string> = new Set([
  'libnvidia-api', 'libnvidia-egl-wayland', 'libnvidia-egl-wayland2', 'libnvidia-egl-gbm', 'libnvidia-egl-xcb',
  'libnvidia-egl-xlib', 'libnvidia-nvvm', 'libdxcore',
]);

const STEM_CATEGORY = new Map<string, LibraryCategory>();
for (const [category, stems] of Object.entries(LIBRARY_STEMS) as [LibraryCategory, readonly string[]][]) {
  for (const stem of stems) STEM_CATEGORY.set(stem, category);
}

/** `libcuda.so.535.261.03` -> `libcuda`; null when the name is not `<stem>.so[.…]`. */
export function libraryStem(name: string): string | null {
  const at = name.indexOf('.so');
  if (at <= 0) return null;
  const rest = name.slice(at + 3);
  if (rest !== '' && !/^\.[0-9A-Za-z.]*$/.test(rest)) return null;
  return name.slice(0, at);
}

/** The category of a library file or soname, or null when it is not one of the driver's. */
export function libraryCategory(name: string): LibraryCategory | null {
  const stem = libraryStem(name);
  return stem === null ? null : (STEM_CATEGORY.get(stem) ?? null);
}

/** A driver version: digits and dots with at least one dot (`535.261.03`, `375.26`). */
export const DRIVER_VERSION_PATTERN = /^\d+(?:\.\d+)+$/;

/**
 * The driver version a driver library's file name carries (`libcuda.so.535.261.03`), or null.
 * A single number after `.so` is a soname major, not a driver version; numbers below 100
 * (`libnvidia-egl-wayland.so.1.1.10`, `libGL.so.1.2.0`) are a project's own, not a driver's.
 */
export function versionInName(name: string): string | null {
  const match = /\.so\.(\d+(?:\.\d+)+)$/.exec(name);
  if (!match) return null;
  const version = match[1]!;
  // Loader-style versions (libGL.so.1.7.0) are not driver versions: a driver's major is >= 100.
  return Number(version.split('.')[0]) >= 100 ? version : null;
}

/** Whether `name` carries exactly the driver version (the lnc rule: the basename ends with it). */
export function carriesVersion(name: string, version: string): boolean {
  return name.endsWith(`.so.${version}`);
}

/** The vendor check of spec section 6: an NVIDIA (or glvnd) GL library needs glcore/eglcore or GLdispatch. */
export function isNvidiaGlNeeded(needed: readonly string[]): boolean {
  return needed.some((name) => /^libnvidia-e?glcore\.so/.test(name) || /^libGLdispatch\.so/.test(name));
}

/** Compares dotted versions numerically (`535.261.03` > `470.256.02`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    // A missing part sorts first: `1` < `1.0`, so distinct versions never compare equal.
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
