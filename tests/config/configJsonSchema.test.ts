import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA_FILE, configJsonSchema } from "../../src/config/configJsonSchema.js";
import { configSchema } from "../../src/config/configSchema.js";
import { CONFIG_FILE } from "../../src/config/loadConfig.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(REPO, file), "utf8"));

describe("configJsonSchema", () => {
  it("configJsonSchema › the committed celstate-sync.config.schema.json is the generated one (run `npm run config-schema`)", () => {
    // Compared as text too, so that the file is byte-for-byte what the script writes.
    expect(readJson(CONFIG_SCHEMA_FILE)).toEqual(configJsonSchema());
    expect(readFileSync(path.join(REPO, CONFIG_SCHEMA_FILE), "utf8")).toBe(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

  it("configJsonSchema › the shipped celstate-sync.config.json validates against the zod schema", () => {
    const result = configSchema.safeParse(readJson(CONFIG_FILE));
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });

  it("configJsonSchema › the shipped config points editors at the schema file", () => {
    expect((readJson(CONFIG_FILE) as { $schema?: string }).$schema).toBe(`./${CONFIG_SCHEMA_FILE}`);
  });

  it("configJsonSchema › describes every setting of the zod schema", () => {
    const props = Object.keys((configJsonSchema() as { properties: Record<string, unknown> }).properties);
    expect(props.sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});
