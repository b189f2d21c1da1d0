/**
 * Function errors the daemon must classify. In production Convex redacts error messages,
 * so every failure carries a stable `code` in `ConvexError.data`; the message is for humans.
 * Codes are listed in the README's error registry (kept in step by a test).
 */
import { ConvexError } from "convex/values";

export const FUNCTION_ERROR_CODES = [
  "UNAUTHORIZED", // missing or wrong service token
  "TOKEN_NOT_CONFIGURED", // CELSTATE_SYNC_TOKEN is not set in the deployment
  "INVALID_ARGUMENT", // an argument is out of range (batch size, timestamp, filename)
  "VALUE_LIMIT", // a record breaks a Convex limit (size, nesting, array length, field name)
  "MISSING_ASSET", // a component lists a file that has no committed asset row
  "UNKNOWN_STORAGE_ID", // an asset refers to a blob that does not exist (expired or collected)
] as const;

export type FunctionErrorCode = (typeof FUNCTION_ERROR_CODES)[number];

export type FunctionErrorData = {
  code: FunctionErrorCode;
  message: string;
  field?: string;
  jobId?: string;
  filename?: string;
};

export function fail(data: FunctionErrorData): never {
  throw new ConvexError(data);
}

/** Refuses an argument (`field`) holding more than `max` of something: INVALID_ARGUMENT, saying how many and of what. */
export function requireAtMost(field: string, count: number, max: number, what: string): void {
  if (count > max) fail({ code: "INVALID_ARGUMENT", field, message: `Expected at most ${max} ${what}, got ${count}` });
}
