// ldcache/node: the Node host. Reads caches from files, discovers the NVIDIA driver of a host
// or driver root, builds driver volumes, serves them to Docker, and writes CDI specs.
export { readLdCache, readLdCacheFd, readLdCacheStream, readLdCacheInRoot, cachePathOf, DEFAULT_CACHE_PATH, MAX_CACHE_BYTES, type ReadCacheTarget } from './read-cache.js';
export { discoverDriver, type DiscoverOptions } from './discover.js';
export { hostPath, RootFs, RootFsError } from './rootfs.js';
export { HostError, hostErrorFrom, errnoText } from './errors.js';
export type * from './discovery-types.js';
export { createDriverVolume, dockerVolumeName, type CreateVolumeOptions, type CreatedVolume, type VolumeProgress } from './volume.js';
export { NoDriverError, noDriverReason, requireDriver } from './no-driver.js';
export { VolumeMountedError } from './volume-errors.js';
export { DEFAULT_VOLUMES_DIR, VOLUME_NAME } from './volume-fs.js';
export { listDriverVolumes, removeDriverVolume, type VolumeInfo, type RemoveVolumeOptions } from './volume-list.js';
export { startPluginServer, type PluginServer, type PluginServerOptions } from './plugin-server.js';
export { startRestApi, type RestApi, type RestApiOptions } from './rest-api.js';
export { driverInjection, injectionArgs, injectBeforeImage, findImage, DEFAULT_PLUGIN_NAME, type DockerCommand, type DockerInjection, type InjectionOptions } from './docker-args.js';
export { commandLineValue, parseEnvFile, type CommandLineValue } from './container-env.js';
export { dockerImageEnv } from './docker-image-env.js';
export { selectGpus, selectableGpus, gpuRequestFromEnv, parseNvGpu, parseVisibleDevices, type GpuRequest, type SelectableGpu } from './gpu-selection.js';
export { DriverVolumePlugin, versionOfVolume, type PluginOptions, type PluginReply } from './plugin-handlers.js';
export { generateCdiSpec, formatCdiSpec, type CdiFormat, type GenerateCdiOptions, type GeneratedCdiSpec } from './cdi.js';
export { writeSpecFile, writeSpecFileIfChanged } from './cdi-write.js';
export { DEFAULT_CDI_SPEC_DIRS, listCdiDevices, readCdiSpecFile, parseCdiSpecText, CdiReadError, type ListedCdiDevices } from './cdi-read.js';
export { buildCdiSpec, assertValidCdiSpec, CdiSpecError, DEFAULT_CDI_KIND, type BuildCdiOptions, type BuiltCdiSpec } from './cdi-build.js';
export * from '../index.js';
