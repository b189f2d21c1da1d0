import { describe, expect, it } from "vitest";
import { compareAsset } from "../../src/ops/compareAsset.js";

const A = "a".repeat(64);
const B = "b".repeat(64);

describe("compareAsset", () => {
  it.each([
    { name: "same bytes match", local: { sha256: A, bytes: 10 }, remote: { sha256: A, bytes: 10 }, want: [] as string[] },
    {
      name: "reports wrong bytes of the same length by hash",
      local: { sha256: A, bytes: 10 },
      remote: { sha256: B, bytes: 10 },
      want: [`sha256 ${A} → sha256 ${B}`],
    },
    {
      name: "reports a truncated blob by length and hash",
      local: { sha256: A, bytes: 10 },
      remote: { sha256: B, bytes: 4 },
      want: ["10 bytes → 4 bytes", `sha256 ${A} → sha256 ${B}`],
    },
  ])("compareAsset › $name", ({ local, remote, want }) => {
    const got = compareAsset("frame.png", local, remote);
    expect(got.map((m) => `${m.expected} → ${m.got}`)).toEqual(want);
    for (const m of got) expect(m.field).toBe("asset frame.png");
  });
});
