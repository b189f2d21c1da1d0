import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { configSchema } from "../../src/config/configSchema.js";
import { HttpStatusError } from "../../src/errors/classifyError.js";
import { checkDeploymentHealth } from "../../src/ops/checkDeploymentHealth.js";
import { doctorExitCode } from "../../src/ops/DoctorCheck.js";
import type { ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { FakeGateway } from "../helpers/fakeGateway.js";

const config = (over: Record<string, unknown> = {}) =>
  configSchema.parse({ convexUrl: "http://127.0.0.1:9", token: "t0ken-value-0123456789", ...over });

/** The gateway factory doctor takes, making a FakeGateway set up by `set`. */
function deployment(set: (g: FakeGateway) => void = () => {}): () => ConvexGateway {
  return () => {
    const g = new FakeGateway();
    set(g);
    return g;
  };
}

const statusOf = (checks: Awaited<ReturnType<typeof checkDeploymentHealth>>) => Object.fromEntries(checks.map((c) => [c.id, c.status]));

describe("checkDeploymentHealth", () => {
  it("checkDeploymentHealth › all ok when the handshake answers with this API version and a close clock", async () => {
    const checks = await checkDeploymentHealth(config(), deployment());
    expect(statusOf(checks)).toEqual({ "convex-url": "ok", reachable: "ok", token: "ok", functions: "ok", clock: "ok" });
    expect(doctorExitCode(checks)).toBe(0);
  });

  it("checkDeploymentHealth › warns about a clock more than 2 s off", async () => {
    const checks = await checkDeploymentHealth(
      config(),
      deployment((g) => (g.clockAheadMs = 5_000)),
    );
    const clock = checks.find((c) => c.id === "clock")!;
    expect(clock.status).toBe("warn");
    expect(clock.detail).toMatch(/behind the deployment's/);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it("checkDeploymentHealth › a refused token fails the token line only", async () => {
    const checks = await checkDeploymentHealth(
      config(),
      deployment((g) => g.failNext("handshake", new ConvexError({ code: "UNAUTHORIZED", message: "missing or wrong service token" }))),
    );
    expect(statusOf(checks)).toEqual({ "convex-url": "ok", reachable: "ok", token: "fail", functions: "skip", clock: "skip" });
    expect(checks.find((c) => c.id === "token")!.fix).toContain("CELSTATE_SYNC_TOKEN");
    expect(doctorExitCode(checks)).toBe(1);
  });

  it("checkDeploymentHealth › a deployment without the token set says how to set it", async () => {
    const checks = await checkDeploymentHealth(
      config(),
      deployment((g) => g.failNext("handshake", new ConvexError({ code: "TOKEN_NOT_CONFIGURED", message: "not set" }))),
    );
    expect(checks.find((c) => c.id === "token")).toMatchObject({ status: "fail", fix: expect.stringContaining("npx convex env set") });
  });

  it("checkDeploymentHealth › another API version fails the functions line", async () => {
    const checks = await checkDeploymentHealth(
      config(),
      deployment((g) => (g.apiVersion = API_VERSION + 1)),
    );
    expect(statusOf(checks)).toMatchObject({ reachable: "ok", functions: "fail" });
    expect(checks.find((c) => c.id === "functions")!.fix).toContain("npx convex deploy");
  });

  it("checkDeploymentHealth › an unreachable deployment fails reachability and skips the rest", async () => {
    const checks = await checkDeploymentHealth(
      config(),
      deployment((g) => g.failNext("handshake", new HttpStatusError(503, "Overloaded"))),
    );
    expect(statusOf(checks)).toEqual({ "convex-url": "ok", reachable: "fail", token: "skip", functions: "skip", clock: "skip" });
    expect(doctorExitCode(checks)).toBe(1);
  });

  it("checkDeploymentHealth › a missing URL or token is a configuration error (exit 2)", async () => {
    const never = () => {
      throw new Error("must not connect");
    };
    const noUrl = await checkDeploymentHealth(configSchema.parse({ token: "t0ken-value-0123456789" }), never);
    expect(noUrl[0]).toMatchObject({ id: "convex-url", status: "fail", config: true });
    expect(doctorExitCode(noUrl)).toBe(2);
    const noToken = await checkDeploymentHealth(configSchema.parse({ convexUrl: "http://127.0.0.1:9" }), never);
    expect(noToken.find((c) => c.id === "token")).toMatchObject({ status: "fail", config: true });
    expect(doctorExitCode(noToken)).toBe(2);
  });
});
