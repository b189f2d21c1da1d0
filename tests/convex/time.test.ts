/**
 * `isoToMicros`: the instant a pipeline timestamp names, to the microsecond, whatever its
 * offset; null for anything that is not a real ISO-8601 instant.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isoToMicros } from "../../convex/lib/time.js";

/** Formats micros since the epoch the way Python's isoformat() does, in the given offset. */
function formatIso(micros: number, offsetMinutes: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = micros - ms * 1000;
  const local = new Date(ms + offsetMinutes * 60_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const sign = offsetMinutes < 0 ? "-" : "+";
  const off = Math.abs(offsetMinutes);
  return (
    `${p(local.getUTCFullYear(), 4)}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}` +
    `T${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}` +
    `.${p(local.getUTCMilliseconds(), 3)}${p(frac, 3)}${sign}${p(Math.floor(off / 60))}:${p(off % 60)}`
  );
}

describe("isoToMicros", () => {
  test("isoToMicros › reads the pipeline's format to the microsecond", () => {
    expect(isoToMicros("2026-11-20T14:03:11.482913+00:00")).toBe(Date.UTC(2026, 10, 20, 14, 3, 11) * 1000 + 482_913);
  });

  test.each([
    "2026-11-20T14:03:11.482913+00:00",
    "2026-11-20T14:03:11.482913Z",
    "2026-11-20T14:03:11.482913",
    "2026-11-20T16:03:11.482913+02:00",
    "2026-11-20T16:03:11.482913+0200",
    "2026-11-20T08:33:11.482913-05:30",
    "2026-11-21T00:03:11.482913+10:00",
    "2026-11-20T14:03:11.482913-00:00",
  ])("isoToMicros › %s is the same instant", (iso) => {
    expect(isoToMicros(iso)).toBe(1_795_183_391_482_913);
  });

  test.each([
    ["2026-11-20T14:03:11Z", 0],
    ["2026-11-20T14:03:11.5Z", 500_000],
    ["2026-11-20T14:03:11.05Z", 50_000],
    ["2026-11-20T14:03:11.000001Z", 1],
    ["2026-11-20T14:03:11.1234567Z", 123_456],
    ["2026-11-20T14:03:11.999999999Z", 999_999],
  ])("isoToMicros › %s has %i µs past the second (digits past 6 are truncated)", (iso, micros) => {
    expect(isoToMicros(iso)! - Date.UTC(2026, 10, 20, 14, 3, 11) * 1000).toBe(micros);
  });

  test("isoToMicros › works before the epoch and for early years", () => {
    expect(isoToMicros("1969-12-31T23:59:59.999999Z")).toBe(-1);
    expect(isoToMicros("1970-01-01T00:00:00.000001Z")).toBe(1);
    // Years below 100 are not shifted into the 1900s.
    expect(isoToMicros("0050-03-01T00:00:00Z")).toBe(Date.parse("0050-03-01T00:00:00Z") * 1000);
  });

  test.each([
    ["2024-02-29T00:00:00Z", "leap year"],
    ["2000-02-29T00:00:00Z", "leap century"],
    ["2026-12-31T23:59:59.999999Z", "last microsecond of a year"],
  ])("isoToMicros › accepts %s (%s)", (iso) => {
    expect(isoToMicros(iso)).toBe(Date.parse(iso.replace(/\.\d+/, "")) * 1000 + (iso.includes(".") ? 999_999 : 0));
  });

  test.each([
    [""],
    ["yesterday"],
    ["2026-11-20"],
    ["2026-11-20 14:03:11"],
    ["2026-11-20t14:03:11Z"],
    ["2026-11-20T14:03"],
    ["2026-11-20T14:03:11.Z"],
    ["2026-11-20T14:03:11.1234567890Z"],
    ["2026-11-20T14:03:11Z trailing"],
    [" 2026-11-20T14:03:11Z"],
    ["2026-02-29T00:00:00Z"],
    ["2100-02-29T00:00:00Z"],
    ["2026-02-30T00:00:00Z"],
    ["2026-04-31T00:00:00Z"],
    ["2026-00-10T00:00:00Z"],
    ["2026-13-01T00:00:00Z"],
    ["2026-11-00T00:00:00Z"],
    ["2026-11-20T24:00:00Z"],
    ["2026-11-20T14:60:00Z"],
    ["2026-11-20T14:03:60Z"],
    ["2026-11-20T14:03:11+24:00"],
    ["2026-11-20T14:03:11+02:60"],
    ["2026-11-20T14:03:11+2:00"],
    ["2026-11-20T14:03:11+02"],
  ])("isoToMicros › refuses %j", (iso) => {
    expect(isoToMicros(iso)).toBeNull();
  });

  test("isoToMicros › reads back any instant in any offset (property)", () => {
    const minMicros = Date.UTC(1970, 0, 2) * 1000;
    const maxMicros = Date.UTC(2200, 0, 1) * 1000;
    fc.assert(
      fc.property(
        fc.integer({ min: minMicros, max: maxMicros }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (micros, offset) => {
          expect(isoToMicros(formatIso(micros, offset))).toBe(micros);
        },
      ),
    );
  });

  test("isoToMicros › orders instants like the numbers they are, not like their strings (property)", () => {
    const base = Date.UTC(2026, 10, 20) * 1000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 86_400_000_000 }),
        fc.integer({ min: 0, max: 86_400_000_000 }),
        fc.integer({ min: -720, max: 840 }),
        fc.integer({ min: -720, max: 840 }),
        (a, b, offA, offB) => {
          const ia = isoToMicros(formatIso(base + a, offA))!;
          const ib = isoToMicros(formatIso(base + b, offB))!;
          expect(Math.sign(ia - ib)).toBe(Math.sign(a - b));
        },
      ),
    );
  });
});
