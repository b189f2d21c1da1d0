/**
 * Reading `jobs:getPublic`'s component: it arrives as JSON text in job.json's dialect (Python's
 * `NaN` and `Infinity` literals, key order kept), because no Convex value can carry its
 * filenames as keys. Python's `json.loads` reads it as it is; this is the same for TypeScript.
 */
import { parsePythonJson } from "../local/pythonJson.js";

export type PublicComponent = Record<string, unknown> & { assets?: Record<string, string | null> };

export function parsePublicComponent(text: string | null): PublicComponent | null {
  return text === null ? null : (parsePythonJson(text) as PublicComponent);
}
