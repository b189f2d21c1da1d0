import { describe, expect, it } from "vitest";
import { meets, median, percentile, summarizeMetric } from "../../bench/summarize.js";

describe("summarize", () => {
  it("median › middle value, mean of the two middle ones, NaN when empty", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("percentile › nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it("meets › judges a value against its goal; NaN never meets one", () => {
    expect(meets(99, { op: "<", value: 100, text: "" })).toBe(true);
    expect(meets(100, { op: "<", value: 100, text: "" })).toBe(false);
    expect(meets(2, { op: "<=", value: 2, text: "" })).toBe(true);
    expect(meets(19.9, { op: ">=", value: 20, text: "" })).toBe(false);
    expect(meets(Number.NaN, { op: "<=", value: 0, text: "" })).toBe(false);
  });

  it("summarizeMetric › judges the median, not the best run", () => {
    const s = summarizeMetric({ label: "x", unit: "ms", values: [90, 150, 160], goal: { op: "<", value: 100, text: "< 100 ms" } });
    expect(s).toEqual({ median: 150, min: 90, max: 160, pass: false });
  });
});
