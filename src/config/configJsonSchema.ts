/**
 * The JSON Schema of `celstate-sync.config.json`, generated from the zod schema so that editors
 * complete and check the file. `npm run config-schema` writes it; a test keeps it current.
 */
import { z } from "zod";
import { configSchema } from "./configSchema.js";

export const CONFIG_SCHEMA_FILE = "celstate-sync.config.schema.json";

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...schema, title: "celstate-sync configuration" };
}
