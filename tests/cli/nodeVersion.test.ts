import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { unsupportedNodeMessage } from "../../src/cli/nodeVersion.js";
import { BIN, REPO, cleanEnv } from "../helpers/runCli.js";

describe("the Node.js version check", () => {
  it("node › accepts 20.19 and newer, refuses anything older in one line naming the floor", () => {
    for (const ok of ["20.19.0", "20.20.2", "21.0.0", "22.1.0", "24.11.1"]) expect(unsupportedNodeMessage(ok)).toBeNull();
    for (const old of ["20.18.3", "18.20.4", "16.0.0"]) {
      const message = unsupportedNodeMessage(old);
      expect(message).toContain(`Node.js ${old} is too old`);
      expect(message).toContain("20.19 or newer");
      expect(message).toContain("NODE_TOO_OLD");
    }
  });

  it("node › the executable says so on an older Node and exits 2, before loading anything else", () => {
    // The running Node made to report an old version, as an older one would.
    const pretendOld = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.20.4"})`;
    const r = spawnSync(process.execPath, ["--import", pretendOld, BIN, "--help"], { cwd: REPO, env: cleanEnv(), encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining("Node.js 18.20.4 is too old")]);
  });
});
