import { describe, expect, it } from "vitest";
import { MIN_SAMPLE_BYTES, UploadRate } from "../../src/remote/UploadRate.js";

describe("UploadRate", () => {
  it("UploadRate › knows nothing before an upload large enough to measure", () => {
    const r = new UploadRate();
    r.record(MIN_SAMPLE_BYTES - 1, 10);
    expect(r.bytesPerSec()).toBeNull();
    expect(r.expectedMs(10 * MIN_SAMPLE_BYTES)).toBeNull();
  });

  it("UploadRate › the median of the last uploads: one slow one does not decide", () => {
    const r = new UploadRate();
    r.record(MIN_SAMPLE_BYTES, 1000);
    r.record(MIN_SAMPLE_BYTES, 1000);
    r.record(MIN_SAMPLE_BYTES, 60_000);
    expect(r.bytesPerSec()).toBe(MIN_SAMPLE_BYTES);
    expect(r.expectedMs(3 * MIN_SAMPLE_BYTES)).toBe(3000);
  });
});
