/**
 * Reads Prometheus text exposition for tests: one sample's value by its series, and the names of
 * every metric family a registry exports (a histogram's `_bucket`, `_sum` and `_count` included).
 */

/** The value of one series (`name` or `name{a="b",…}` exactly as exposed), or undefined. */
export function sampleOf(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !line.startsWith(series)) continue;
    const rest = line.slice(series.length);
    if (!rest.startsWith(" ")) continue;
    return Number(rest.trim().split(" ")[0]);
  }
  return undefined;
}

/** Every sample name the text exposes (`# TYPE` families and their suffixed series). */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
      if (kind === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  }
  return names;
}
