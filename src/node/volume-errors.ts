// Refusals of volume operations that callers present in their own words (the CLI adds how to
// override them), as HostErrors with a code of their own.
import { HostError } from './errors.js';

/** `remove` of a volume that a plugin records as mounted: code `EMOUNTED`, `path` the version directory. */
export class VolumeMountedError extends HostError {
  override name = 'VolumeMountedError';
  constructor(
    path: string,
    readonly volume: string,
    readonly mounts: number,
  ) {
    super('EMOUNTED', path, `volume ${volume} is mounted (${mounts} mount${mounts === 1 ? '' : 's'} recorded by the plugin)`);
  }
}
