/**
 * The pure check behind `verify`'s downloads: the bytes served at an asset's URL are the bytes
 * of the local file (same length, same sha256).
 */
import type { Mismatch } from "./comparePublicJob.js";

export type Digest = { sha256: string; bytes: number };

export function compareAsset(filename: string, local: Digest, remote: Digest): Mismatch[] {
  const field = `asset ${filename}`;
  const out: Mismatch[] = [];
  if (local.bytes !== remote.bytes) out.push({ field, expected: `${local.bytes} bytes`, got: `${remote.bytes} bytes` });
  if (local.sha256 !== remote.sha256) out.push({ field, expected: `sha256 ${local.sha256}`, got: `sha256 ${remote.sha256}` });
  return out;
}
