import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/createLogger.js";
import { holdLastLine, stderrSink } from "../../src/log/stderrSink.js";

/** What `fn` writes to stdout and stderr (restored before it returns). */
function capture(fn: () => void): { stdout: string[]; stderr: string[] } {
  const got = { stdout: [] as string[], stderr: [] as string[] };
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => got.stdout.push(c.toString()) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => got.stderr.push(c.toString()) > 0) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return got;
}

let release: (() => void) | undefined;
afterEach(() => release?.());

describe("stderrSink", () => {
  it("stderrSink › writes each line to stderr while nothing holds the last line", () => {
    expect(capture(() => stderrSink.write("a line\n"))).toEqual({ stdout: [], stderr: ["a line\n"] });
  });

  it("holdLastLine › hands every line to the holder until released; one holder at a time", () => {
    const above: string[] = [];
    release = holdLastLine({ printAbove: (t) => above.push(t) });
    expect(() => holdLastLine({ printAbove: () => {} })).toThrow(/already held/);
    const held = capture(() => stderrSink.write("one\n"));
    release();
    const after = capture(() => stderrSink.write("two\n"));
    expect(above).toEqual(["one\n"]);
    expect(held.stderr).toEqual([]);
    expect(after.stderr).toEqual(["two\n"]);
  });
});

describe("createLogger", () => {
  it("createLogger › logs to stderr by default, never to stdout, the token scrubbed", () => {
    const log = createLogger({ level: "info", secrets: ["s3cr3t-token"], pretty: false });
    const got = capture(() => log.info({ jobId: "j1" }, "refused s3cr3t-token"));
    expect(got.stdout).toEqual([]);
    expect(got.stderr).toHaveLength(1);
    expect(JSON.parse(got.stderr[0]!)).toMatchObject({ level: 30, jobId: "j1", msg: "refused [REDACTED]" });
  });

  it("createLogger › a pretty entry reaches the holder of the last line whole, in one write", () => {
    const above: string[] = [];
    release = holdLastLine({ printAbove: (t) => above.push(t) });
    const log = createLogger({ level: "info", pretty: true });
    log.warn({ jobId: "j1", code: "JOB_JSON_UNPARSABLE" }, "cannot parse");
    expect(above).toHaveLength(1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes are stripped to read the text
    expect(above[0]!.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(celstate-sync\): cannot parse\n {4}jobId: "j1"\n {4}code: "JOB_JSON_UNPARSABLE"\n$/,
    );
  });
});
