/**
 * FaultInjector: which fault specs apply to a request and how they are used up.
 */
import { describe, expect, test } from "vitest";
import { FaultInjector, faultSpecSchema } from "./FaultInjector.js";

const commit = { faultPath: "sync:commit", isUpload: false };
const handshake = { faultPath: "sync:handshake", isUpload: false };
const upload = { faultPath: "upload", isUpload: true };

function injector() {
  let now = 1000;
  const f = new FaultInjector(() => now);
  return { f, advance: (ms: number) => (now += ms) };
}

describe("FaultInjector", () => {
  test("FaultInjector › uploadBytesPerSec throttles uploads only, the slowest spec wins, nothing terminal", () => {
    const { f } = injector();
    f.add({ uploadBytesPerSec: 1000 });
    f.add({ uploadBytesPerSec: 500, count: 1 });
    expect(f.decide(commit)).toEqual({ latencyMs: 0, uploadBytesPerSec: null, terminal: null });
    expect(f.decide(upload)).toEqual({ latencyMs: 0, uploadBytesPerSec: 500, terminal: null });
    expect(f.decide(upload).uploadBytesPerSec).toBe(1000);
  });

  test("FaultInjector › a spec with a count applies to that many matching requests", () => {
    const { f } = injector();
    f.add({ status: 503, count: 2, path: "sync:commit" });
    expect(f.decide(handshake).terminal).toBeNull();
    expect(f.decide(commit).terminal).toEqual({ kind: "status", status: 503, retryAfterS: 1 });
    expect(f.decide(commit).terminal?.kind).toBe("status");
    expect(f.decide(commit).terminal).toBeNull();
    expect(f.active()).toEqual([]);
  });

  test("FaultInjector › a spec with a duration ends by the clock; one with neither lasts until cleared", () => {
    const { f, advance } = injector();
    f.add({ status: 500, durationMs: 100 });
    f.add({ latencyMs: 7 });
    expect(f.decide(handshake)).toEqual({
      latencyMs: 7,
      uploadBytesPerSec: null,
      terminal: { kind: "status", status: 500, retryAfterS: 1 },
    });
    advance(100);
    expect(f.decide(handshake)).toEqual({ latencyMs: 7, uploadBytesPerSec: null, terminal: null });
    f.clear();
    expect(f.decide(handshake)).toEqual({ latencyMs: 0, uploadBytesPerSec: null, terminal: null });
  });

  test("FaultInjector › latencies add up, the first terminal fault wins and only used specs lose a count", () => {
    const { f } = injector();
    f.add({ latencyMs: 10, count: 1 });
    f.add({ latencyMs: 5 });
    f.add({ status: 429, retryAfterS: 3, count: 1 });
    f.add({ status: 500, count: 1 });
    expect(f.decide(handshake)).toEqual({
      latencyMs: 15,
      uploadBytesPerSec: null,
      terminal: { kind: "status", status: 429, retryAfterS: 3 },
    });
    // The 500 spec was not used by the first request: it decides the second.
    expect(f.decide(handshake)).toEqual({
      latencyMs: 5,
      uploadBytesPerSec: null,
      terminal: { kind: "status", status: 500, retryAfterS: 1 },
    });
    expect(f.decide(handshake)).toEqual({ latencyMs: 5, uploadBytesPerSec: null, terminal: null });
  });

  test("FaultInjector › dropUpload applies to uploads only, failCommit to sync:commit only", () => {
    const { f } = injector();
    f.add({ dropUpload: true, count: 1 });
    f.add({ failCommit: true, count: 1 });
    expect(f.decide(handshake).terminal).toBeNull();
    expect(f.decide(upload).terminal).toEqual({ kind: "dropUpload" });
    expect(f.decide(commit).terminal).toEqual({ kind: "failCommit" });
    expect(f.active()).toEqual([]);
  });

  test("FaultInjector › a pure-duration refusal without a path becomes a listener outage; others refuse connections", () => {
    const { f } = injector();
    f.add({ refuse: true, durationMs: 250 });
    f.add({ refuse: true, count: 1 });
    f.add({ refuse: true, path: "upload", durationMs: 50 });
    expect(f.takeListenerOutage()).toBe(1250);
    expect(f.takeListenerOutage()).toBeNull();
    expect(f.refuseConnection()).toBe(true);
    expect(f.refuseConnection()).toBe(false);
    expect(f.decide(handshake).terminal).toBeNull();
    expect(f.decide(upload).terminal).toEqual({ kind: "refuse" });
  });

  test("FaultInjector › the spec schema refuses unknown fields, unknown statuses and specs without a fault", () => {
    expect(faultSpecSchema.safeParse({ status: 503, count: 1 }).success).toBe(true);
    expect(faultSpecSchema.safeParse({ status: 404 }).success).toBe(false);
    expect(faultSpecSchema.safeParse({ count: 1 }).success).toBe(false);
    expect(faultSpecSchema.safeParse({ refuse: true, extra: 1 }).success).toBe(false);
    expect(faultSpecSchema.safeParse({ latencyMs: 5, count: 0 }).success).toBe(false);
  });
});
