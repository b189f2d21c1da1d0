import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { createLogger } from "../../src/log/createLogger.js";

/** The JSON lines a logger at `level` writes for `log`. */
function linesAt(level: string, log: (l: ReturnType<typeof createLogger>) => void): Array<Record<string, unknown>> {
  const lines: string[] = [];
  log(createLogger({ level, destination: { write: (l) => lines.push(l) } }));
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("errors in log lines", () => {
  it("a coded error an operator acts on is one line: code and message, no stack", () => {
    const [line] = linesAt("info", (l) => l.warn({ err: new SyncError("BACKEND_NOT_RUNNING", "the deployment is paused") }, "waiting"));
    expect(line!.err).toEqual({ type: "SyncError", code: "BACKEND_NOT_RUNNING", message: "the deployment is paused" });
  });

  it("an internal error, or one nobody coded, keeps its stack", () => {
    const [coded, raw] = linesAt("info", (l) => {
      l.error({ err: new SyncError("INTERNAL", "x is undefined") }, "bug");
      l.error({ err: new TypeError("y is not a function") }, "bug");
    });
    expect((coded!.err as { stack: string }).stack).toMatch(/\n\s+at /);
    expect((raw!.err as { stack: string }).stack).toMatch(/^TypeError: y is not a function\n\s+at /);
  });

  it("at debug level every error keeps its stack", () => {
    const [line] = linesAt("debug", (l) => l.warn({ err: new SyncError("NETWORK", "ECONNREFUSED") }, "retrying"));
    expect((line!.err as { stack: string }).stack).toMatch(/\n\s+at /);
  });
});
