/**
 * Timestamps as the pipeline writes them: ISO-8601 with microseconds and an offset
 * (`2026-11-20T14:03:11.482913+00:00`). Parsed to microseconds since the epoch so that
 * monotonic writes compare real instants, not strings.
 */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

export function isoToMicros(iso: string): number | null {
  const m = ISO.exec(iso);
  if (!m) return null;
  const [, base, frac = "", zone = "Z"] = m;
  const ms = Date.parse(`${base}${zone === "Z" ? "Z" : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(ms)) return null;
  const micros = Number((frac + "000000").slice(0, 6));
  return ms * 1000 + micros;
}
