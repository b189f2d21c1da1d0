import { describe, expect, it } from "vitest";
import { isJobFolderName } from "../../src/local/isJobFolderName.js";

describe("isJobFolderName", () => {
  it.each([
    ["11111111-2222-4333-8444-555555555555", true],
    ["job-00001", true],
    ["B", true],
    // Ours and anything hidden.
    [".celstate-sync", false],
    [".hidden", false],
    // The pipeline's staging names, however they go on.
    ["tmp", false],
    ["tmpx1y2z3", false],
    ["tmp-staging", false],
    // Only a prefix counts.
    ["my_tmp", true],
    ["a.b", true],
  ])("isJobFolderName › %s → %s", (name, expected) => {
    expect(isJobFolderName(name)).toBe(expected);
  });
});
