// Parsers for what busybox prints inside a test container, shared by the engine tests.

/** `sha256sum` output as container path -> hash. */
export function hashes(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([0-9a-f]{64})\s+(\/\S+)$/.exec(line);
    if (match) map.set(match[2]!, match[1]!);
  }
  return map;
}

/** `ls -l` lines of character devices as path -> "major,minor". */
export function charDevices(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^c[rwx-]{9}\s.*?\s(\d+),\s*(\d+)\s.*\s(\/dev\/\S+)$/.exec(line);
    if (match) map.set(match[3]!, `${match[1]},${match[2]}`);
  }
  return map;
}
