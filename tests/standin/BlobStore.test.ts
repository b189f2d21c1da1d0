/**
 * BlobStore's header parsing: Digest values and byte ranges.
 */
import { describe, expect, test } from "vitest";
import { parseRange, parseSha256Digest } from "./BlobStore.js";

describe("BlobStore", () => {
  const digest = Buffer.alloc(32, 7).toString("base64");
  test.each([
    [undefined, undefined],
    [`sha-256=${digest}`, digest],
    // As strict as the backend: the exact prefix, the base64 of exactly 32 bytes, nothing else.
    [`SHA-256=${digest}`, "invalid"],
    [`md5=zzz, sha-256=${digest}`, "invalid"],
    [`sha-256=${digest} `, "invalid"],
    ["sha-256=abc=", "invalid"],
    [`sha-256=${Buffer.alloc(32, 7).toString("hex")}`, "invalid"],
    ["md5=zzz", "invalid"],
  ])("parseSha256Digest › %s gives %s", (header, expected) => {
    expect(parseSha256Digest(header)).toBe(expected);
  });

  test.each([
    [undefined, null],
    ["bytes=0-99", { start: 0, end: 99 }],
    ["bytes=900-", { start: 900, end: 999 }],
    ["bytes=900-5000", { start: 900, end: 999 }],
    ["bytes=-10", { start: 990, end: 999 }],
    ["bytes=-5000", { start: 0, end: 999 }],
    ["bytes=0-1,5-6", null],
    ["bytes=1000-", "invalid"],
    ["bytes=5-4", "invalid"],
    ["bytes=-0", "invalid"],
    ["bytes=-", "invalid"],
    ["items=0-1", "invalid"],
  ])("parseRange › %s of a 1000-byte file gives %o", (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});
