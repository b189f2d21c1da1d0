import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { compileAssetRules } from "../../src/local/compileAssetRules.js";
import { DEFAULT_ASSET_RULES, isIgnoredPath } from "../../src/local/defaultAssetRules.js";
import { casTempName } from "../../src/local/casRewriteJobJson.js";
import { assignRoles } from "../../src/local/listJobFiles.js";

describe("DEFAULT_ASSET_RULES", () => {
  const rules = compileAssetRules(DEFAULT_ASSET_RULES);
  it.each([
    ["outputs/ivy.png", "ivy", "output_png", "image/png"],
    ["outputs/ivy_debug.png", "ivy", "debug_png", "image/png"],
    ["outputs/ivy_mask.png", "ivy", "mask_png", "image/png"],
    ["trace/trace.json", "ivy", "trace_json", "application/json"],
    // Roles come from the record's name, whatever the name ends with.
    ["outputs/panel_debug.png", "panel_debug", "output_png", "image/png"],
    ["outputs/panel_debug_debug.png", "panel_debug", "debug_png", "image/png"],
    ["outputs/panel_debug_mask.png", "panel_debug", "mask_png", "image/png"],
    ["outputs/x_mask.png", "x_mask", "output_png", "image/png"],
    ["outputs/x_mask_debug.png", "x_mask", "debug_png", "image/png"],
    // A name full of glob characters is only itself.
    ["outputs/[a]*.png", "[a]*", "output_png", "image/png"],
    ["outputs/[a]*_debug.png", "[a]*", "debug_png", "image/png"],
    // Real names: a leading dot, `tmp`, `$`, unicode, spaces.
    ["outputs/.hidden_gem.png", ".hidden_gem", "output_png", "image/png"],
    ["outputs/tmp_badge.png", "tmp_badge", "output_png", "image/png"],
    ["outputs/tmpl_card_mask.png", "tmpl_card", "mask_png", "image/png"],
    ["outputs/$dollar_debug.png", "$dollar", "debug_png", "image/png"],
    ["outputs/Gold Frame ü.png", "Gold Frame ü", "output_png", "image/png"],
    ["outputs/星_icon_debug.png", "星_icon", "debug_png", "image/png"],
  ])("DEFAULT_ASSET_RULES › %s (name %j) is %s", (relPath, name, role, contentType) => {
    expect(rules.match(relPath, name)).toMatchObject({ role, contentType });
  });

  it.each(["outputs/ivy_debug.png", "outputs/ivy.png", "outputs/.a.png", "outputs/tmpab12cd34.png"])(
    "DEFAULT_ASSET_RULES › before the parse (name unknown), %s is a candidate",
    (relPath) => {
      expect(rules.match(relPath)).not.toBeNull();
    },
  );

  it.each([
    ["outputs/ivy_debug.png", "debug_png"],
    ["outputs/ivy.png", "output_png"],
    ["outputs/other_mask.png", "mask_png"],
  ])("DEFAULT_ASSET_RULES › a record without a name (null) gets the glob roles: %s is %s", (relPath, role) => {
    expect(rules.match(relPath, null)?.role).toBe(role);
  });

  it("assignRoles › settles a listing made before the parse, and drops what no rule takes with the name", () => {
    const custom = [{ match: "outputs/<name>.png", role: "output_png", contentType: "image/png" }] as const;
    const file = (relPath: string) => ({
      role: "output_png" as const,
      filename: relPath.split("/")[1]!,
      relPath,
      absPath: `/x/${relPath}`,
      size: 1,
      mtimeMs: 1,
      ino: 1,
      contentType: "image/png",
    });
    const listed = [file("outputs/panel_debug.png"), file("outputs/panel_debug_debug.png"), file("outputs/other.png")];
    expect(assignRoles(listed, DEFAULT_ASSET_RULES, "panel_debug").map((f) => [f.relPath, f.role])).toEqual([
      ["outputs/panel_debug.png", "output_png"],
      ["outputs/panel_debug_debug.png", "debug_png"],
      ["outputs/other.png", "output_png"],
    ]);
    expect(assignRoles(listed, custom, "panel_debug").map((f) => f.relPath)).toEqual(["outputs/panel_debug.png"]);
  });

  it.each([
    "studio/white.png",
    "studio/outputs/a.png",
    "trace/tmpq9w8e7r6.json",
    "tmpa1b2c3d4",
    "job.json",
    "outputs/sub/a.png",
    "outputs/a.PNG.txt",
    "trace/other.json",
    "ivy.png",
  ])("DEFAULT_ASSET_RULES › %s is not an asset", (relPath) => {
    expect(rules.match(relPath, "ivy")).toBeNull();
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
    // What Python's tempfile makes: tmp + 8 of [a-z0-9_], next to job.json or in trace/.
    ["tmpa1b2c3d4", true],
    ["tmp_x9_y8_z", true],
    ["trace/tmpq9w8e7r6.json", true],
    [casTempName(), true],
    [".celstate-sync-0a1b2c3d4e5f.prev", true],
    // Nothing broader: real names that only look like temp or dot files.
    ["outputs/tmp_badge.png", false],
    ["outputs/tmpl_card.png", false],
    ["outputs/tmpab12cd34.png", false],
    ["outputs/.hidden_gem.png", false],
    ["outputs/.x.png", false],
    ["tmpA1B2C3D4", false],
    ["tmpa1b2c3d", false],
    ["tmpa1b2c3d45", false],
    ["trace/tmp_notes.json", false],
    [".DS_Store", false],
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

  it.each(["outputs/<name>*.png", "<name>/a.png", "outputs/<name>_<name>.png"])("compileAssetRules › refuses the name rule %j", (match) => {
    expect(() => compileAssetRules([{ match, role: "output_png", contentType: "image/png" }])).toThrow(/name/);
  });
});
