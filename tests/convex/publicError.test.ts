import { describe, expect, it } from "vitest";
import { namesAbsolutePath, publicError } from "../../convex/lib/publicError.js";

const ID = "3f6c2a9e-8d4b-4e1f-9a37-5b2c7d1e0f42";

describe("publicError", () => {
  it.each([
    [
      `[TraceID: ${ID}] Could not read input images: /srv/celstate/jobs/${ID}/studio/x_white.png`,
      `[TraceID: ${ID}] Could not read input images: studio/x_white.png`,
    ],
    [`[TraceID: ${ID}] missing /srv/celstate/jobs/${ID}/outputs/a b.png.`, `[TraceID: ${ID}] missing outputs/a b.png.`],
    [`[TraceID: ${ID}] model at /opt/models/matting/v3.onnx failed`, `[TraceID: ${ID}] model at v3.onnx failed`],
    [`[TraceID: ${ID}] ("/home/celstate/.cache/x.bin", "/tmp/y")`, `[TraceID: ${ID}] ("x.bin", "y")`],
    [`[TraceID: ${ID}] Rate Limit Exceeded. Please try again later.`, `[TraceID: ${ID}] Rate Limit Exceeded. Please try again later.`],
    [
      `[TraceID: ${ID}] see https://status.example.com/api/v1/x for details`,
      `[TraceID: ${ID}] see https://status.example.com/api/v1/x for details`,
    ],
    [`[TraceID: ${ID}] 3/4 passes done, ratio 1/2`, `[TraceID: ${ID}] 3/4 passes done, ratio 1/2`],
  ])("publicError › %s", (error, expected) => {
    const out = publicError(error, ID);
    expect(out).toBe(expected);
    expect(namesAbsolutePath(out!)).toBe(false);
  });

  it("publicError › null stays null", () => {
    expect(publicError(null, ID)).toBeNull();
  });

  it("namesAbsolutePath › finds a server path, not a URL or a fraction", () => {
    expect(namesAbsolutePath("open /var/old-host/jobs/abc/x.png failed")).toBe(true);
    expect(namesAbsolutePath("http://127.0.0.1:3210/api/storage/abc")).toBe(false);
    expect(namesAbsolutePath("3/4 done")).toBe(false);
  });
});
