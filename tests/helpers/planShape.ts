/**
 * A daemon record (`sync:commit`'s shape) as the plan's clients send it to `jobs:upsert`: epoch
 * ms only, the component as an object, none of this project's fields.
 */
import type { JobRecordInput, PlanUpsertInput } from "../../convex/lib/jobStore.js";
import { parsePythonJson } from "../../src/local/pythonJson.js";

export function planShapeOf(job: JobRecordInput): PlanUpsertInput {
  const { componentJson, createdAtIso: _c, updatedAtIso: _u, ...rest } = job;
  return { ...rest, component: componentJson === null ? null : parsePythonJson(componentJson) };
}
