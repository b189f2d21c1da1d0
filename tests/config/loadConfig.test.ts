import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type LoadOptions } from "../../src/config/loadConfig.js";
import { requireConvex } from "../../src/cli/context.js";
import { configView, formatConfigView } from "../../src/ops/configView.js";

const TOKEN = "s3cret-token-value-5d1e";
let cwd = "";
beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "celstate-load-"));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const file = () => path.join(cwd, "celstate-sync.config.json");
const writeConfig = (value: unknown) => writeFile(file(), JSON.stringify(value));

/** The one-line CONFIG_INVALID message loadConfig throws. */
function failure(opts: LoadOptions): string {
  try {
    loadConfig({ cwd, ...opts });
  } catch (e) {
    const message = (e as Error).message;
    expect(message.split("\n")).toHaveLength(1);
    expect((e as { code?: string }).code).toBe("CONFIG_INVALID");
    return message;
  }
  throw new Error("expected loadConfig to refuse the configuration");
}

describe("loadConfig: unknown keys, at every level", () => {
  it("loadConfig › an unknown key names itself and the file, suggests the setting, and prints neither the token nor the configuration", async () => {
    await writeConfig({ concurency: 4, prune: true });
    const message = failure({ env: { CELSTATE_SYNC_TOKEN: TOKEN } });
    expect(message).toBe(`\`concurency\` in ${file()} is not a setting; did you mean \`concurrency\`?`);
    expect(message).not.toContain(TOKEN);
  });

  it("loadConfig › unknown nested keys are refused with their dotted names, never dropped", async () => {
    await writeConfig({ retry: { maxattempts: 3 } });
    expect(failure({ env: {} })).toBe(`\`retry.maxattempts\` in ${file()} is not a setting; did you mean \`retry.maxAttempts\`?`);
    await writeConfig({ watch: { debounceMS: 5 } });
    expect(failure({ env: {} })).toBe(`\`watch.debounceMS\` in ${file()} is not a setting; did you mean \`watch.debounceMs\`?`);
    await writeConfig({ assets: [{ match: "outputs/*.png", role: "output_png", contentType: "image/png", kind: "x" }] });
    expect(failure({ env: {} })).toMatch(/^`assets\.0\.kind` in .* is not a setting$/);
  });

  it("loadConfig › a name far from every setting gets no suggestion", async () => {
    await writeConfig({ colour: "blue" });
    expect(failure({ env: {} })).toBe(`\`colour\` in ${file()} is not a setting`);
  });
});

describe("loadConfig: what an error shows of the value", () => {
  it("loadConfig › a token too short is refused with its length, never its text", () => {
    const message = failure({ env: { CELSTATE_SYNC_TOKEN: "tiny1" } });
    expect(message).toContain("`token` from the environment (CELSTATE_SYNC_TOKEN) is invalid: too short: at least 16 characters");
    expect(message).toContain("got 5 characters (not shown)");
    expect(message).not.toContain("tiny1");
  });

  it("loadConfig › a token in the file that is not text names the setting and shows nothing of it", async () => {
    await writeConfig({ token: { value: TOKEN } });
    const message = failure({ env: {} });
    expect(message).toMatch(/^`token` in .* is invalid: /);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain("{");
  });

  it("loadConfig › a whole object or list is described, not printed", async () => {
    await writeConfig({ concurrency: { n: 4 } });
    expect(failure({ env: {} })).toMatch(/^`concurrency` in .* is invalid: .*, got an object$/);
    await writeConfig({ retry: [1, 2] });
    expect(failure({ env: {} })).toMatch(/^`retry` in .* is invalid: .*, got a list$/);
  });

  it("loadConfig › a flag's value is shown as it was typed, and the flag named", () => {
    expect(failure({ env: {}, flags: { healthPort: "abc" } })).toMatch(/^`healthPort` from --health-port is invalid: .*, got `abc`$/);
    expect(failure({ env: {}, flags: { "watch.drainMs": "-5" } })).toMatch(/^`watch\.drainMs` from --drain-ms is invalid: .*, got `-5`$/);
    expect(failure({ env: {}, flags: { concurrency: "0" } })).toMatch(/^`concurrency` from --concurrency is invalid: .*, got `0`$/);
  });

  it("loadConfig › an environment value is shown as it was set, and the variable named", () => {
    expect(failure({ env: { CELSTATE_SYNC_HEALTH_PORT: "9464x" } })).toMatch(
      /^`healthPort` from the environment \(CELSTATE_SYNC_HEALTH_PORT\) is invalid: .*, got `9464x`$/,
    );
  });

  it("loadConfig › flags and the environment go through the same schema as the file", () => {
    const { config, sources } = loadConfig({
      cwd,
      env: { CELSTATE_SYNC_CONCURRENCY: "3" },
      flags: { healthPort: "9464", "watch.drainMs": "2500" },
    });
    expect(config).toMatchObject({ concurrency: 3, healthPort: 9464, watch: { drainMs: 2500 } });
    expect(sources).toMatchObject({ concurrency: "env", healthPort: "flag", "watch.drainMs": "flag" });
  });
});

describe("loadConfig: sources by dotted key", () => {
  it("config › a nested setting from the file is labelled file, its siblings default", async () => {
    await writeConfig({ retry: { maxAttempts: 3 } });
    const view = configView(loadConfig({ cwd, env: {} }));
    const by = Object.fromEntries(view.entries.map((e) => [e.key, e]));
    expect(by["retry.maxAttempts"]).toEqual({ key: "retry.maxAttempts", value: 3, source: "file" });
    expect(by["retry.baseMs"]).toEqual({ key: "retry.baseMs", value: 500, source: "default" });
    expect(by["watch.drainMs"]).toEqual({ key: "watch.drainMs", value: 10_000, source: "default" });
    expect(by.retry).toBeUndefined();
  });

  it("config › the token is masked by its key; no other value is searched for its text", () => {
    const token = "aaaaaaaaaaaaaaaa";
    const loaded = loadConfig({ cwd, env: { CELSTATE_SYNC_TOKEN: token, CONVEX_URL: `https://${token}.convex.cloud` } });
    const text = formatConfigView(configView(loaded));
    expect(text).toMatch(/^ {2}token +"\*\*\*" {2}\(env\)$/m);
    expect(text).toContain(`"https://${token}.convex.cloud"`);
  });
});

describe("loadConfig: --env-file", () => {
  it("--env-file › is read like a systemd EnvironmentFile= and wins over the environment", async () => {
    const envFile = path.join(cwd, "celstate-sync.env");
    await writeFile(envFile, `CONVEX_URL=https://happy-otter-123.convex.cloud\nCELSTATE_SYNC_TOKEN=${TOKEN}\n`);
    const loaded = loadConfig({ cwd, envFile, env: { CONVEX_URL: "https://other-deployment-9.convex.cloud" } });
    expect(loaded.config.convexUrl).toBe("https://happy-otter-123.convex.cloud");
    expect(loaded.sources).toMatchObject({ convexUrl: "env-file", token: "env-file" });
    expect(loaded.envFile).toBe(envFile);
  });

  it("--env-file › a missing file is a configuration error naming it", () => {
    expect(failure({ env: {}, envFile: "nope.env" })).toBe(
      `environment file ${path.join(cwd, "nope.env")} (from --env-file) does not exist`,
    );
  });

  it("--env-file › a bad value in it names the file and the variable", async () => {
    const envFile = path.join(cwd, "celstate-sync.env");
    await writeFile(envFile, "CELSTATE_SYNC_CONCURRENCY=many\n");
    expect(failure({ env: {}, envFile })).toMatch(
      new RegExp(`^\`concurrency\` from ${envFile.replace(/[.]/g, "\\.")} \\(CELSTATE_SYNC_CONCURRENCY\\) is invalid: .*, got \`many\`$`),
    );
  });
});

describe("the missing-URL message", () => {
  it("CONVEX_URL_MISSING › names VITE_CONVEX_URL / NEXT_PUBLIC_CONVEX_URL when a Convex template wrote it instead", async () => {
    await writeFile(path.join(cwd, ".env.local"), "VITE_CONVEX_URL=https://happy-otter-123.convex.cloud\n");
    const viteOnly = loadConfig({ cwd, env: { CELSTATE_SYNC_TOKEN: TOKEN } });
    expect(() => requireConvex(viteOnly)).toThrow(
      /\.env\.local has VITE_CONVEX_URL.*celstate-sync reads CONVEX_URL: set CONVEX_URL to the same value/,
    );
    const next = loadConfig({
      cwd: os.tmpdir(),
      env: { CELSTATE_SYNC_TOKEN: TOKEN, NEXT_PUBLIC_CONVEX_URL: "https://happy-otter-123.convex.cloud" },
    });
    expect(() => requireConvex(next)).toThrow(/the environment has NEXT_PUBLIC_CONVEX_URL/);
    const plain = loadConfig({ cwd: os.tmpdir(), env: { CELSTATE_SYNC_TOKEN: TOKEN } });
    expect(() => requireConvex(plain)).toThrow(
      /^no Convex deployment URL: pass --convex-url, set CONVEX_URL \(or put it in \.env\.local\), or set convexUrl in celstate-sync\.config\.json$/,
    );
  });
});
