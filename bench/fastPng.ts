/**
 * Real PNG files of a chosen size, fast: random RGBA pixels stored (deflate level 0), so a
 * file's size is what was asked for within a few bytes and writing hundreds of megabytes of
 * history costs seconds, not minutes. `writeLargePng` streams a PNG of any size (the 1 GiB
 * scenario) without holding it in memory. The daemon never decodes pixels; it needs the PNG
 * signature-to-IEND layout the pipeline's files have.
 */
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { crc32, deflateSync } from "node:zlib";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))) >>> 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(width, 0);
  h.writeUInt32BE(height, 4);
  h[8] = 8; // bit depth
  h[9] = 6; // RGBA
  return chunk("IHDR", h);
}

const IEND = chunk("IEND", Buffer.alloc(0));

/** A PNG of about `bytes` bytes (never less than a 1×1 image) with random pixels. */
export function makeRandomPng(bytes: number): Buffer {
  const side = Math.max(1, Math.floor(Math.sqrt(Math.max(0, bytes - 80) / 4)));
  const raw = randomBytes((side * 4 + 1) * side);
  for (let row = 0; row < side; row++) raw[row * (side * 4 + 1)] = 0; // filter byte: none
  return Buffer.concat([SIGNATURE, ihdr(side, side), chunk("IDAT", deflateSync(raw, { level: 0 })), IEND]);
}

/**
 * Writes a PNG-shaped file of exactly `bytes` bytes (≥ 57): signature, IHDR, IDAT chunks of
 * random data (one 1 MiB block repeated, so writing is disk-bound), IEND. The IDAT payload is
 * not a valid zlib stream; nothing in the sync path decodes it.
 */
export async function writeLargePng(file: string, bytes: number): Promise<void> {
  const head = Buffer.concat([SIGNATURE, ihdr(16384, 16384)]);
  const overhead = head.length + IEND.length;
  if (bytes < overhead + 12) throw new Error(`Expected a size of at least ${overhead + 12} bytes, got ${bytes}`);
  const block = randomBytes(1 << 20);
  const fh = await open(file, "w");
  try {
    await fh.write(head);
    let left = bytes - overhead;
    while (left > 0) {
      let payload = Math.min(block.length, left - 12);
      const rest = left - payload - 12;
      if (rest > 0 && rest < 12) payload -= 12; // leave room for one more whole chunk
      await fh.write(chunk("IDAT", block.subarray(0, payload)));
      left -= payload + 12;
    }
    await fh.write(IEND);
  } finally {
    await fh.close();
  }
}
