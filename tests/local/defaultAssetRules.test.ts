import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { compileAssetRules } from "../../src/local/compileAssetRules.js";
import { DEFAULT_ASSET_RULES, isIgnoredPath } from "../../src/local/defaultAssetRules.js";
import { casTempName } from "../../src/local/casRewriteJobJson.js";

describe("DEFAULT_ASSET_RULES", () => {
  const rules = compileAssetRules(DEFAULT_ASSET_RULES);
  it.each([
    ["outputs/ivy.png", "output_png", "image/png"],
    ["outputs/ivy_debug.png", "debug_png", "image/png"],
    ["outputs/ivy_mask.png", "mask_png", "image/png"],
    ["trace/trace.json", "trace_json", "application/json"],
  ])("DEFAULT_ASSET_RULES › %s is %s", (relPath, role, contentType) => {
    expect(rules.match(relPath)).toMatchObject({ role, contentType });
  });

  it.each([
    "studio/white.png",
    "studio/outputs/a.png",
    "outputs/tmpab12cd34.png",
    "trace/tmpq9w8e7r6.json",
    "tmpa1b2c3d4",
    "outputs/.a.png",
    "job.json",
    "outputs/sub/a.png",
    "outputs/a.PNG.txt",
    "trace/other.json",
    "ivy.png",
  ])("DEFAULT_ASSET_RULES › %s is not an asset", (relPath) => {
    expect(rules.match(relPath)).toBeNull();
  });

  it("DEFAULT_ASSET_RULES › lists only outputs/ and trace/", () => {
    expect(rules.walks).toEqual([
      { base: "outputs", depth: 1 },
      { base: "trace", depth: 1 },
    ]);
  });
});

describe("isIgnoredPath", () => {
  it.each([
    ["studio", true],
    ["studio/white.png", true],
    ["tmpa1b2c3d4", true],
    ["trace/tmpq9w8e7r6.json", true],
    [".DS_Store", true],
    [".git/config", true],
    ["outputs/.x.png", true],
    [casTempName(), true],
    ["job.json", false],
    ["outputs/a.png", false],
    ["outputs/studio.png", false],
    ["my_tmp/a.png", false],
    ["trace/trace.json", false],
  ])("isIgnoredPath › %s → %s", (relPath, ignored) => {
    expect(isIgnoredPath(relPath)).toBe(ignored);
  });

  it("isIgnoredPath › our marker temp file is never job.json and never a pipeline tmp* name", () => {
    const name = casTempName();
    expect(name).not.toBe("job.json");
    expect(name.startsWith("tmp")).toBe(false);
    expect(name).toMatch(/^\.celstate-sync-[0-9a-f]{16}\.tmp$/);
  });
});

describe("compileAssetRules", () => {
  it.each(["../x/*.png", "/abs/*.png", "!outputs/*.png", "outputs//a.png", "./outputs/*.png", "outputs\\*.png", ""])(
    "compileAssetRules › refuses the pattern %j",
    (match) => {
      let err: unknown;
      try {
        compileAssetRules([{ match, role: "output_png", contentType: "image/png" }]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SyncError);
      expect((err as SyncError).code).toBe("CONFIG_INVALID");
    },
  );

  it("compileAssetRules › first match wins", () => {
    const c = compileAssetRules([
      { match: "outputs/*.png", role: "output_png", contentType: "image/png" },
      { match: "outputs/*_debug.png", role: "debug_png", contentType: "image/png" },
    ]);
    expect(c.match("outputs/a_debug.png")?.role).toBe("output_png");
  });

  it("compileAssetRules › folds a nested base into a deep enough parent walk", () => {
    const c = compileAssetRules([
      { match: "outputs/**/*.png", role: "output_png", contentType: "image/png" },
      { match: "outputs/sub/*.json", role: "trace_json", contentType: "application/json" },
      { match: "*.json", role: "trace_json", contentType: "application/json" },
    ]);
    expect(c.walks).toEqual([
      { base: "outputs", depth: 16 },
      { base: "", depth: 1 },
    ]);
  });
});
