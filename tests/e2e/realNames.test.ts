/**
 * Job names are user input, and the outputs are named after them: any unicode a Linux file
 * system accepts, spaces, a leading `.`, `$`, `_` or `tmp`. Every such job must sync with its
 * files in the roles the pipeline gave them, and `jobs:getPublic` must give job.json's
 * component back exactly — keys, key order and values — with URLs in place of its nulls.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackfill } from "../../src/engine/runBackfill.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";
import { comparePublicJob } from "../../src/ops/comparePublicJob.js";
import { readLocalJob } from "../../src/local/readJob.js";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { PipelineJob } from "../helpers/pipelineWriter.js";
import { createHarness, download, type Harness, sha256 } from "../helpers/syncHarness.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

/** A name whose three output files a Linux file system accepts (no `/`, no NUL, ≤ 255 bytes). */
const linuxName = fc
  .string({ unit: "binary", minLength: 1, maxLength: 40 })
  .filter((s) => !/\p{Surrogate}/u.test(s) && !/[/\0]/.test(s) && Buffer.byteLength(`${s}_debug.png`) <= 255);

async function syncAndCheck(job: PipelineJob): Promise<void> {
  const { summary } = await runBackfill({ config: h.config(), gateway: h.gateway(), log: h.log, jobIds: [job.id] });
  expect(summary.failed, JSON.stringify(summary.failed)).toEqual([]);
  expect(summary.syncedNow + summary.inSync).toBe(1);

  const text = await readFile(path.join(job.dir, "job.json"), "utf8");
  const local = parsePythonJson(text) as { component: Record<string, unknown> };
  const raw = await h.getPublicRaw(job.id);
  expect(typeof raw!.component).toBe("string");
  const served = parsePythonJson(raw!.component as string) as Record<string, unknown>;
  // Keys and key order as job.json's, at every level that has them.
  expect(Object.keys(served)).toEqual(Object.keys(local.component));
  const assets = served.assets as Record<string, string>;
  expect(Object.keys(assets)).toEqual(Object.keys(local.component.assets as object));
  expect(served.manifest).toEqual(local.component.manifest);
  expect(served.telemetry).toEqual(local.component.telemetry);
  for (const [filename, url] of Object.entries(assets)) {
    const { bytes } = await download(url);
    expect(sha256(bytes), filename).toBe(sha256(await readFile(path.join(job.dir, "outputs", filename))));
  }
  // verify's own comparison agrees, and finds no internal field or server path.
  const record = (await readLocalJob(h.jobsDir, job.id, DEFAULT_ASSET_RULES)).record;
  expect(comparePublicJob(raw, record).mismatches).toEqual([]);
}

describe("real job names", () => {
  it.each([
    "Gold Frame ü",
    "星_icon",
    "$dollar",
    "tmp_badge",
    "tmpl_card",
    ".hidden_gem",
    "panel_debug",
    "_under",
    "x_mask",
    'a"quote\\back',
    "emoji 🪴 pot",
  ])("names › a job named %j syncs whole: every file, in its role, and the component exactly", async (name) => {
    const job = new PipelineJob(h.jobsDir, { name, pngBytes: 3_000 });
    await job.runToSuccess();
    await syncAndCheck(job);
    const [state] = (await h.client.query((await import("convex/server")).makeFunctionReference<"query">("sync:getStates"), {
      serviceToken: h.token,
      jobIds: [job.id],
    })) as Array<{ assets: Array<{ filename: string; role: string }> }>;
    const roles = Object.fromEntries(state!.assets.map((a) => [a.filename, a.role]));
    expect(roles).toEqual({
      [`${name}.png`]: "output_png",
      [`${name}_mask.png`]: "mask_png",
      [`${name}_debug.png`]: "debug_png",
      "trace.json": "trace_json",
    });
  });

  it("names › any name a Linux file system accepts round-trips through commit and getPublic", async () => {
    await fc.assert(
      fc.asyncProperty(linuxName, async (name) => {
        const job = new PipelineJob(h.jobsDir, { name, pngBytes: 1_000 });
        await job.runToSuccess();
        await syncAndCheck(job);
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
