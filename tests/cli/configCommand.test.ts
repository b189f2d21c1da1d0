import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConfigView } from "../../src/ops/configView.js";
import { cleanEnv, runCli } from "../helpers/runCli.js";
import { runMain } from "./operatorHarness.js";

const TOKEN = "s3cret-token-value-91c4";
let cwd = "";
beforeEach(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), "celstate-config-cli-"));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("celstate-sync config", () => {
  it("config › prints the effective values with their sources and masks the token", async () => {
    await writeFile(path.join(cwd, "celstate-sync.config.json"), JSON.stringify({ concurrency: 3 }));
    await writeFile(path.join(cwd, ".env.local"), "CONVEX_URL=https://happy-otter-123.convex.cloud\n");
    const r = await runCli(["config", "--jobs-dir", "jobs"], { env: cleanEnv({ CELSTATE_SYNC_TOKEN: TOKEN }), cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`config file: ${path.join(cwd, "celstate-sync.config.json")}`);
    expect(r.stdout).toMatch(/^ {2}token +"\*\*\*" {2}\(env\)$/m);
    expect(r.stdout).toMatch(/^ {2}convexUrl +"https:\/\/happy-otter-123\.convex\.cloud" {2}\(\.env\.local\)$/m);
    expect(r.stdout).toMatch(/^ {2}concurrency +3 {2}\(file\)$/m);
    expect(r.stdout).toMatch(/^ {2}jobsDir +".*jobs" {2}\(flag\)$/m);
    expect(r.stdout).toMatch(/^ {2}settleMs +\d+ {2}\(default\)$/m);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it("config › --json gives the same, parseable, token masked", async () => {
    const r = await runCli(["config", "--json"], { env: cleanEnv({ CELSTATE_SYNC_TOKEN: TOKEN }), cwd });
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout) as ConfigView;
    expect(view.configFile).toBeNull();
    expect(view.entries.find((e) => e.key === "token")).toEqual({ key: "token", value: "***", source: "env" });
    expect(r.stdout).not.toContain(TOKEN);
  });

  it("config › an invalid value exits 2 naming the setting and its source", async () => {
    const r = await runMain(["config", "--config", path.join(cwd, "nope.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("does not exist");
    await writeFile(path.join(cwd, "c.json"), JSON.stringify({ settleMs: -1 }));
    const bad = await runMain(["config", "--config", path.join(cwd, "c.json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/`settleMs` in .*c\.json is invalid/);
  });

  it("config › --help shows the precedence, an example and the exit codes", async () => {
    const r = await runMain(["config", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Examples:\n  $ celstate-sync config");
    expect(r.stdout).toContain("Precedence");
  });
});
