import { describe, expect, it } from "vitest";
import { ENV_KEYS } from "../../src/config/loadConfig.js";
import { runCli } from "../helpers/runCli.js";

describe("celstate-sync --help", () => {
  it("help › names every environment variable the configuration reads, with examples and the exit codes", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const variable of Object.keys(ENV_KEYS)) expect(r.stdout).toMatch(new RegExp(`^  ${variable} `, "m"));
    expect(r.stdout).toContain("\nExamples:\n  $ celstate-sync ");
    expect(r.stdout).toMatch(/^Exit status: 0 ok; 1 .*; 2 /m);
  });
});
