/**
 * Timestamps as the pipeline writes them: ISO-8601 with microseconds and an offset
 * (`2026-11-20T14:03:11.482913+00:00`). Parsed to microseconds since the epoch so that
 * monotonic writes compare real instants, not strings.
 *
 * Every field is range-checked: `Date.parse` would roll an impossible date such as
 * `2026-02-30` over into March, turning a corrupt timestamp into a plausible instant.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** Offset in minutes east of UTC, or null when out of range. No offset means UTC. */
function offsetMinutes(zone: string | undefined): number | null {
  if (zone === undefined || zone === "Z") return 0;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * 60 + minutes);
}

export function isoToMicros(iso: string): number | null {
  const m = ISO.exec(iso);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const offset = offsetMinutes(m[8]);
  if (offset === null) return null;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const ms = d.getTime() - offset * 60_000;
  const micros = Number(`${m[7] ?? ""}000000`.slice(0, 6));
  return ms * 1000 + micros;
}

/** Microseconds since the epoch as the pipeline writes instants (UTC): `2026-11-20T14:03:11.482913+00:00`. */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const micros = String(us - ms * 1000).padStart(3, "0");
  return new Date(ms).toISOString().replace(/Z$/, `${micros}+00:00`);
}

/** The epoch milliseconds of an instant the pipeline wrote (the plan's `createdAt`/`updatedAt`), or null. */
export function isoToMillis(iso: string): number | null {
  const us = isoToMicros(iso);
  return us === null ? null : Math.floor(us / 1000);
}
