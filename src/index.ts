// ldcache, browser-safe entry: parse glibc's ld.so.cache with the wasm core, print it the way
// `ldconfig -p` does, or turn it into JSON. Node-only helpers (files, drivers) are in `ldcache/node`.
export { parseLdCache, parseLdCacheInPlace, type ParseOptions } from './core/parse.js';
export { createLdCacheParser, parseLdCacheStream, type LdCacheParser, type StreamParseOptions } from './core/stream.js';
export { formatLdconfig, formatLdconfigBytes, formatLdconfigChunks, type FormatLdconfigOptions } from './core/format-ldconfig.js';
export { cacheToJSON, cacheJSONChunks, entryToJSON, flagsText, hwcapHex, type CacheJSON, type CacheJSONOptions, type CacheJSONTextOptions, type CacheToJSONOptions, type EntryJSON } from './core/json.js';
export { EntryJSONView } from './core/entry-json-view.js';
export { ParsedLdCache, type EntryTable } from './core/ldcache.js';
export { archBits, archName, cacheFamily, requiredText, typeText, osAbiText, type CacheFamily, type GlibcVersion } from './core/abi.js';
export { init } from './core/wasm.js';
export { LdCacheError, type LdCacheErrorCode } from './core/errors.js';
export type { ByteOrder, CacheFormat, LdCache, LdCacheEntry } from './core/types.js';
export { classifyNvidiaCache, type NvidiaCacheClassification, type NvidiaCacheEntry, type NvidiaEntryStatus } from './core/nvidia.js';
export { LIBRARY_STEMS, libraryCategory, libraryStem, versionInName, type LibraryCategory } from './core/nvidia-libraries.js';
export { readElf, readElfFrom, ElfError, type ElfInfo, type ElfSource, type ElfErrorCode, type ElfAbiTag } from './core/elf.js';
export { elfArch } from './core/elf-arch.js';
export { validateCdiSpec, requiredCdiVersion, cdiKindError, cdiDeviceNameError, compareCdiVersions, formatCdiProblems, CDI_VERSIONS, type CdiProblem, type CdiValidation } from './core/cdi-validate.js';
export { toYaml } from './core/cdi-yaml.js';
export { parseYaml, YamlError } from './core/yaml-read.js';
export type { CdiSpec, CdiDevice, CdiContainerEdits, CdiDeviceNode, CdiMount, CdiHook } from './core/cdi-types.js';
