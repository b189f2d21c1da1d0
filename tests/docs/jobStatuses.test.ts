/**
 * The README's table of job statuses is the vocabulary's one definition (src/engine/jobStatus.ts)
 * as written there: every status with its meaning, and no other.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JOB_STATUS_MEANINGS, JOB_STATUSES } from "../../src/engine/jobStatus.js";

describe("README › job statuses", () => {
  it("README › the table lists every job status with its meaning, and no other", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Job statuses"), readme.indexOf("## Configuration"));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(JOB_STATUSES.map((s) => [s, JOB_STATUS_MEANINGS[s]]));
  });
});
