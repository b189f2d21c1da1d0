import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/loadConfig.js";
import { configView, formatConfigView } from "../../src/ops/configView.js";
import { describeConfigSources } from "../../src/ops/describeConfigSources.js";

const TOKEN = "s3cret-token-value-7f2a";
let cwd = "";
beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "celstate-config-"));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("configView", () => {
  it("configView › masks the token and names each value's source", async () => {
    await writeFile(path.join(cwd, "celstate-sync.config.json"), JSON.stringify({ concurrency: 4 }));
    await writeFile(path.join(cwd, ".env.local"), `CELSTATE_SYNC_TOKEN=${TOKEN}\n`);
    await writeFile(path.join(cwd, ".env"), "CONVEX_URL=https://happy-otter-123.convex.cloud\n");
    const loaded = loadConfig({ cwd, env: { CELSTATE_SYNC_LOG_LEVEL: "warn" }, flags: { jobsDir: "j" } });
    const view = configView(loaded);
    const by = Object.fromEntries(view.entries.map((e) => [e.key, e]));
    expect(by.token).toEqual({ key: "token", value: "***", source: ".env.local" });
    expect(by.convexUrl).toMatchObject({ value: "https://happy-otter-123.convex.cloud", source: ".env" });
    expect(by.concurrency).toMatchObject({ value: 4, source: "file" });
    expect(by.logLevel).toMatchObject({ value: "warn", source: "env" });
    expect(by.jobsDir).toMatchObject({ value: path.join(cwd, "j"), source: "flag" });
    expect(by.settleMs).toMatchObject({ source: "default" });
    const text = formatConfigView(view) + JSON.stringify(view);
    expect(text).not.toContain(TOKEN);
    expect(formatConfigView(view)).toContain(`config file: ${path.join(cwd, "celstate-sync.config.json")}`);
  });

  it("configView › a deployment URL with a secret pasted into it is refused, and not shown", () => {
    expect(() => loadConfig({ cwd, env: { CELSTATE_SYNC_TOKEN: TOKEN, CONVEX_URL: `https://x.convex.cloud/?k=${TOKEN}` } })).toThrow(
      "`convexUrl` from the environment (CONVEX_URL) is invalid: a deployment URL has no credentials, query or fragment (like https://happy-otter-123.convex.cloud), got `https://x.convex.cloud/…`",
    );
  });

  it("configView › shows settings without a value as not set", () => {
    const view = configView(loadConfig({ cwd, env: {} }));
    expect(view.entries.find((e) => e.key === "convexUrl")).toEqual({ key: "convexUrl", source: "default" });
    expect(formatConfigView(view)).toMatch(/convexUrl\s+\(not set\)/);
    expect(view.entries.some((e) => e.key === "$schema")).toBe(false);
  });

  it("describeConfigSources › lists what is not a default", () => {
    const loaded = loadConfig({ cwd, env: { CONVEX_URL: "https://happy-otter-123.convex.cloud" }, flags: { jobsDir: "j" } });
    expect(describeConfigSources(loaded)).toBe("no config file; convexUrl from the environment, jobsDir from flag; the rest default");
  });
});
