/**
 * The light probe with its default interval and timeout, on fake timers: an outage of an idle
 * daemon shows within 15 s whenever it begins, whether the deployment answers "Server Error"
 * (paused) or nothing at all, and its end shows as fast. Through the engine's real
 * DeploymentProbe (its answer reuse included) over a gateway whose handshake plays the deployment.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { API_VERSION } from "../../convex/lib/apiVersion.js";
import { DeploymentProbe } from "../../src/engine/DeploymentProbe.js";
import { FunctionFailure } from "../../src/errors/classifyError.js";
import type { ConvexGateway } from "../../src/remote/ConvexGateway.js";
import { ReachabilityProbe } from "../../src/watch/ReachabilityProbe.js";
import { FakeGateway } from "../helpers/fakeGateway.js";
import { BACKEND_PROBE_INTERVAL_MS, BACKEND_PROBE_TIMEOUT_MS } from "../../src/timing.js";

/** The most an outage may take to show: the bound. */
const SHOWN_WITHIN_MS = 15_000;
/** A handshake's round trip, when the deployment answers at all. */
const ROUND_TRIP_MS = 40;
/** The gateway's own request timeout (`requestTimeoutMs`' default): what a silent deployment costs a request. */
const REQUEST_TIMEOUT_MS = 30_000;

function timeoutError(): Error {
  const e = new Error("The operation was aborted due to timeout");
  e.name = "TimeoutError";
  return e;
}

type Deployment = "up" | "paused" | "silent";

function rig() {
  let state: Deployment = "up";
  let handshakes = 0;
  let fatal = 0;
  // Not FakeGateway: this handshake takes a round trip, or a whole request timeout, in fake time.
  const gateway = {
    handshake: () => {
      handshakes++;
      const now = state;
      if (now === "silent") return new Promise<never>((_, reject) => setTimeout(() => reject(timeoutError()), REQUEST_TIMEOUT_MS));
      return new Promise<{ apiVersion: number; serverTimeMs: number }>((resolve, reject) =>
        setTimeout(
          () =>
            now === "up"
              ? resolve({ apiVersion: API_VERSION, serverTimeMs: Date.now() })
              : reject(new FunctionFailure("sync:handshake", "[Request ID: 1a2b] Server Error")),
          ROUND_TRIP_MS,
        ),
      );
    },
  } as unknown as ConvexGateway;
  const deployment = new DeploymentProbe({ gateway, onFatal: () => fatal++ });
  const looks: Array<{ at: number; answers: boolean }> = [];
  const probe = new ReachabilityProbe({
    check: () => deployment.check({ reportFatal: false }),
    intervalMs: BACKEND_PROBE_INTERVAL_MS,
    timeoutMs: BACKEND_PROBE_TIMEOUT_MS,
    onLook: (answers) => looks.push({ at: Date.now(), answers }),
  });
  return {
    probe,
    looks,
    set: (s: Deployment) => (state = s),
    handshakes: () => handshakes,
    fatal: () => fatal,
    latest: () => looks.at(-1)?.answers,
  };
}

/** Advances fake time in small steps until `cond` holds; returns the time it took. */
async function msUntil(cond: () => boolean, limitMs: number): Promise<number> {
  const from = Date.now();
  while (!cond()) {
    if (Date.now() - from > limitMs) throw new Error(`not within ${limitMs} ms`);
    await vi.advanceTimersByTimeAsync(50);
  }
  return Date.now() - from;
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ReachabilityProbe", () => {
  it("ReachabilityProbe › the defaults show an outage within 15 s, whenever in the interval it begins", async () => {
    expect(BACKEND_PROBE_INTERVAL_MS + BACKEND_PROBE_TIMEOUT_MS).toBeLessThan(SHOWN_WITHIN_MS);
    for (const outage of ["paused", "silent"] as const) {
      for (let offsetMs = 0; offsetMs < BACKEND_PROBE_INTERVAL_MS + 1_000; offsetMs += 700) {
        const r = rig();
        r.probe.start();
        try {
          await msUntil(() => r.latest() === true, 1_000);
          await vi.advanceTimersByTimeAsync(offsetMs);
          r.set(outage);
          const tookMs = await msUntil(() => r.latest() === false, SHOWN_WITHIN_MS);
          expect(tookMs, `${outage} at +${offsetMs} ms`).toBeLessThanOrEqual(SHOWN_WITHIN_MS);
          r.set("up");
          // A silent deployment's last request ends only at its own timeout: the answer after it.
          const backWithinMs = SHOWN_WITHIN_MS + (outage === "silent" ? REQUEST_TIMEOUT_MS : 0);
          const backMs = await msUntil(() => r.latest() === true, backWithinMs);
          expect(backMs, `back after ${outage}`).toBeLessThanOrEqual(backWithinMs);
          expect(r.fatal()).toBe(0);
        } finally {
          r.probe.stop();
        }
      }
    }
  });

  it("ReachabilityProbe › light: one handshake per interval while the deployment answers, and none after stop", async () => {
    const r = rig();
    r.probe.start();
    try {
      await vi.advanceTimersByTimeAsync(BACKEND_PROBE_INTERVAL_MS * 10);
      expect(r.handshakes()).toBeGreaterThanOrEqual(10);
      expect(r.handshakes()).toBeLessThanOrEqual(11);
      expect(r.looks.every((l) => l.answers)).toBe(true);
    } finally {
      r.probe.stop();
    }
    const seen = r.handshakes();
    await vi.advanceTimersByTimeAsync(BACKEND_PROBE_INTERVAL_MS * 3);
    expect(r.handshakes()).toBe(seen);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ReachabilityProbe › a refusal counts as answering and is never reported fatal by the probe", async () => {
    let fatal = 0;
    const gateway = new FakeGateway();
    const missing = new FunctionFailure(
      "sync:handshake",
      "[Request ID: 1] Server Error\nCould not find public function for 'sync:handshake'.",
    );
    gateway.failNext("handshake", missing, Number.POSITIVE_INFINITY);
    const deployment = new DeploymentProbe({ gateway, onFatal: () => fatal++ });
    const looks: boolean[] = [];
    const probe = new ReachabilityProbe({
      check: () => deployment.check({ reportFatal: false }),
      intervalMs: 1_000,
      timeoutMs: 1_000,
      onLook: (a) => looks.push(a),
    });
    probe.start();
    try {
      await msUntil(() => looks.length >= 3, 10_000);
      expect(looks.every((a) => a)).toBe(true);
      expect(fatal).toBe(0);
      // The engine's own check (a job's outage confirmation, the start-up) still reports it.
      await deployment.check();
      expect(fatal).toBe(1);
      expect(gateway.calls.handshake).toBeGreaterThanOrEqual(3);
    } finally {
      probe.stop();
    }
  });
});
