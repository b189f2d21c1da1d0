/**
 * The benchmark's quick mode, end to end (the stand-in and celstate-sync as their own
 * processes), so the benchmark never rots. It asserts only that every scenario completes and
 * that the correctness checks inside pass, never anything about speed.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runBench, SCENARIOS } from "../../bench/runBench.js";
import { REPO } from "../helpers/runCli.js";

describe("runBench", () => {
  it("runBench › quick mode runs every scenario and every correctness check passes", async () => {
    const results = await runBench({ scenarios: SCENARIOS.map((s) => s.id), runs: 1, quick: true });
    expect(results.map((r) => r.id)).toEqual(["backfill", "noop", "live", "rest", "large", "scale"]);
    for (const r of results) {
      expect(r.checks.length, `${r.id} has checks`).toBeGreaterThan(0);
      expect(
        r.checks.filter((c) => !c.ok),
        `${r.id} failed checks`,
      ).toEqual([]);
      for (const m of r.metrics) expect(m.values, `${r.id}: ${m.label}`).toHaveLength(1);
    }
    const checkNames = results.flatMap((r) => r.checks.map((c) => c.name));
    expect(checkNames).toEqual(
      expect.arrayContaining([expect.stringMatching(/zero uploads$/), expect.stringMatching(/no asset file opened/)]),
    );
    const live = results.find((r) => r.id === "live")!;
    expect(live.metrics.find((m) => m.label.startsWith("final states lost"))?.values).toEqual([0]);
  }, 300_000);

  it("runBench › refuses an unknown scenario by name", async () => {
    await expect(runBench({ scenarios: ["backfil"], runs: 1, quick: true })).rejects.toThrow(
      /backfill, noop, live, rest, large, scale.*backfil/,
    );
  });

  it("bench CLI › refuses --runs 0 with exit code 2", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--runs", "0"], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Expected `--runs` to be an integer >= 1, got `0`/);
  });
});
