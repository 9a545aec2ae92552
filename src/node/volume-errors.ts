// Refusals of volume operations that callers present in their own words (the CLI adds how to
// override them): each has a string `code`.

/** `remove` of a volume that a plugin records as mounted; `code` is `VOLUME_MOUNTED`. */
export class VolumeMountedError extends Error {
  readonly code = 'VOLUME_MOUNTED';
  constructor(
    readonly path: string,
    readonly volume: string,
    readonly mounts: number,
  ) {
    super(`${path}: volume ${volume} is mounted (${mounts} mount${mounts === 1 ? '' : 's'} recorded by the plugin)`);
    this.name = 'VolumeMountedError';
  }
}
