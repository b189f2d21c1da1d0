import { describe, expect, it } from "vitest";
import { MAX_TRACE_DATA_BYTES, MAX_TRACE_EVENTS } from "../../convex/lib/timeline.js";
import { MAX_TRACE_FILE_BYTES, traceEventsOf, traceSizeProblem } from "../../src/local/traceEvents.js";
import { readFileSync } from "node:fs";

const sample = readFileSync(new URL("../fixtures/samples/06-trace.json", import.meta.url));
const bytes = (text: string) => new TextEncoder().encode(text);

describe("traceEventsOf", () => {
  it("traceEventsOf › reads the sample trace: type, timestamp and data as Python-JSON text", () => {
    const r = traceEventsOf(sample);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.trace.totalEvents).toBe(2);
    expect(r.trace.events[0]).toMatchObject({ index: 0, eventType: "input", timestamp: "2026-11-20T14:03:11.990412+00:00" });
    expect(JSON.parse(r.trace.events[0]!.dataJson!)).toEqual({
      prompt: "a carved wooden sign frame with ivy at the corners",
      asset_type: "container",
    });
  });

  it(`traceEventsOf › keeps the first ${MAX_TRACE_EVENTS} events and counts the rest; NaN survives in the text`, () => {
    const events = Array.from({ length: 130 }, (_, i) => `{"timestamp": "t${i}", "event_type": "e", "data": {"x": NaN}}`);
    const r = traceEventsOf(bytes(`{"events": [${events.join(",")}]}`));
    expect(r.ok && r.trace.events.length).toBe(MAX_TRACE_EVENTS);
    expect(r.ok && r.trace.totalEvents).toBe(130);
    expect(r.ok && r.trace.events[5]!.dataJson).toContain("NaN");
  });

  it(`traceEventsOf › data over ${MAX_TRACE_DATA_BYTES} bytes is left out, its size kept`, () => {
    const big = "x".repeat(MAX_TRACE_DATA_BYTES + 10);
    const r = traceEventsOf(bytes(`{"events": [{"timestamp": "t", "event_type": "e", "data": "${big}"}]}`));
    expect(r.ok && r.trace.events[0]).toMatchObject({ dataJson: null, dataBytes: big.length + 2 });
  });

  it("traceEventsOf › says why a trace is not events: not JSON, no events array, too big", () => {
    expect(traceEventsOf(bytes("{nope"))).toMatchObject({ ok: false, problem: expect.stringMatching(/^is not JSON/) });
    expect(traceEventsOf(bytes('{"events": 3}'))).toEqual({ ok: false, problem: "has no `events` array" });
    expect(traceSizeProblem(MAX_TRACE_FILE_BYTES + 1)).toMatch(/more than the/);
    expect(traceSizeProblem(MAX_TRACE_FILE_BYTES)).toBeNull();
  });
});
