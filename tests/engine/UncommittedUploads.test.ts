import { describe, expect, it } from "vitest";
import { UncommittedUploads } from "../../src/engine/UncommittedUploads.js";
import { UNCOMMITTED_REUSE_MS } from "../../src/timing.js";

describe("UncommittedUploads", () => {
  it("UncommittedUploads › finds a blob by job, file and content; another content or file is not it", () => {
    const u = new UncommittedUploads(() => 0);
    u.add("j", "outputs/a.png", "sha1", "s1");
    expect(u.find("j", "outputs/a.png", "sha1")).toBe("s1");
    expect(u.find("j", "outputs/a.png", "sha2")).toBeNull();
    expect(u.find("j", "outputs/b.png", "sha1")).toBeNull();
    expect(u.find("k", "outputs/a.png", "sha1")).toBeNull();
  });

  it(`UncommittedUploads › an upload older than ${UNCOMMITTED_REUSE_MS / 60_000} min is not reused; forgetJob drops only that job's`, () => {
    let now = 0;
    const u = new UncommittedUploads(() => now);
    u.add("j", "a", "x", "s1");
    u.add("k", "a", "x", "s2");
    u.forgetJob("j");
    expect(u.find("j", "a", "x")).toBeNull();
    expect(u.find("k", "a", "x")).toBe("s2");
    now = UNCOMMITTED_REUSE_MS + 1;
    expect(u.find("k", "a", "x")).toBeNull();
    u.forgetJob("k");
    expect(u.size).toBe(0);
  });
});
