import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, rename, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SyncError } from "../../src/errors/SyncError.js";
import { DEFAULT_ASSET_RULES } from "../../src/local/defaultAssetRules.js";
import { hashFile } from "../../src/local/hashFile.js";
import { listJobFiles } from "../../src/local/listJobFiles.js";
import { assertFileUnchangedSync, openAssetStream } from "../../src/local/openAssetFile.js";
import type { LocalFile } from "../../src/local/types.js";
import { useTempJobsDir } from "./tempJobsDir.js";

const jobsDir = useTempJobsDir();

async function jobWithOutput(data: Buffer): Promise<{ dir: string; file: LocalFile }> {
  const dir = path.join(jobsDir(), "job-1");
  await mkdir(path.join(dir, "outputs"), { recursive: true });
  await writeFile(path.join(dir, "outputs", "a.png"), data);
  const [file] = listJobFiles(dir, "job-1", DEFAULT_ASSET_RULES);
  if (!file) throw new Error("no file listed");
  return { dir, file };
}

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => "resolved",
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SyncError);
  return (e as SyncError).code;
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("hashFile", () => {
  it.each([0, 1, 65536, 65537, 300_001, 1024 * 1024, 1024 * 1024 + 5])(
    "hashFile › matches crypto's sha256 for %i bytes, returns the last 12, and the bytes of a file up to 1 MiB",
    async (n) => {
      const data = randomBytes(n);
      const { dir, file } = await jobWithOutput(data);
      const whole = n <= 1024 * 1024 ? { data } : {};
      expect(await hashFile(dir, file)).toEqual({ sha256: sha(data), bytes: n, tail: data.subarray(Math.max(0, n - 12)), ...whole });
      // The streamed path (progress reported) gives the same hash and tail, and no bytes.
      expect(await hashFile(dir, file, { onProgress: () => {} })).toEqual({
        sha256: sha(data),
        bytes: n,
        tail: data.subarray(Math.max(0, n - 12)),
      });
    },
  );

  it("hashFile › the tail is right when the last read is shorter than it", async () => {
    const data = randomBytes(65536 + 5);
    const { dir, file } = await jobWithOutput(data);
    expect((await hashFile(dir, file, { chunkBytes: 65536 })).tail).toEqual(data.subarray(-12));
  });

  it("hashFile › reads in bounded chunks (1 MiB by default; progress is reported per chunk)", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(2_500_000));
    const seen: number[] = [];
    await hashFile(dir, file, { onProgress: (b) => void seen.push(b) });
    expect(seen).toEqual([1048576, 2097152, 2_500_000]);
    seen.length = 0;
    await hashFile(dir, file, { chunkBytes: 1_000_000, onProgress: (b) => void seen.push(b) });
    expect(seen).toEqual([1_000_000, 2_000_000, 2_500_000]);
  });

  it("hashFile › a file appended to during hashing is FILE_CHANGED", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(200_000));
    let once = false;
    const onProgress = async () => {
      if (once) return;
      once = true;
      await appendFile(file.absPath, "more");
    };
    expect(await code(hashFile(dir, file, { onProgress, chunkBytes: 65536 }))).toBe("FILE_CHANGED");
  });

  it("hashFile › a same-size rewrite in place during hashing is FILE_CHANGED (mtime moved)", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(200_000));
    const onProgress = async (bytes: number) => {
      if (bytes !== 65536) return;
      await writeFile(file.absPath, randomBytes(200_000));
      await utimes(file.absPath, new Date(), new Date(file.mtimeMs + 5000));
    };
    expect(await code(hashFile(dir, file, { onProgress, chunkBytes: 65536 }))).toBe("FILE_CHANGED");
  });

  it("hashFile › a file replaced since it was listed is FILE_CHANGED before reading", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(1000));
    const tmp = path.join(dir, "outputs", "b.bin");
    await writeFile(tmp, randomBytes(1000));
    await rename(tmp, file.absPath);
    expect(await code(hashFile(dir, file))).toBe("FILE_CHANGED");
  });

  it("hashFile › a file turned into a symlink since it was listed is refused", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(10));
    await writeFile(path.join(jobsDir(), "outside"), randomBytes(10));
    await rename(file.absPath, path.join(dir, "old"));
    await symlink(path.join(jobsDir(), "outside"), file.absPath);
    expect(await code(hashFile(dir, file))).toBe("UNSAFE_PATH");
  });

  it("hashFile › a file that vanished is FILE_CHANGED", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(10));
    await rename(file.absPath, path.join(dir, "gone"));
    expect(await code(hashFile(dir, file))).toBe("FILE_CHANGED");
  });

  it("hashFile › a relPath leading outside the job is UNSAFE_PATH", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(10));
    expect(await code(hashFile(dir, { ...file, relPath: "../job-1/outputs/a.png" }))).toBe("UNSAFE_PATH");
  });
});

describe("openAssetStream", () => {
  it("openAssetStream › streams exactly the listed bytes", async () => {
    const data = randomBytes(150_000);
    const { dir, file } = await jobWithOutput(data);
    const chunks: Buffer[] = [];
    for await (const c of await openAssetStream(dir, file)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    assertFileUnchangedSync(dir, file);
  });

  it("openAssetStream › stops at the listed size even if the file grew after opening", async () => {
    const data = randomBytes(1000);
    const { dir, file } = await jobWithOutput(data);
    const stream = await openAssetStream(dir, file);
    await appendFile(file.absPath, "tail");
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    expect(await code(Promise.resolve().then(() => assertFileUnchangedSync(dir, file)))).toBe("FILE_CHANGED");
  });

  it("openAssetStream › an empty file streams nothing", async () => {
    const { dir, file } = await jobWithOutput(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    for await (const c of await openAssetStream(dir, file)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).toBe(0);
  });

  it("openAssetStream › refuses a file modified since it was listed", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(100));
    await appendFile(file.absPath, "x");
    expect(await code(openAssetStream(dir, file))).toBe("FILE_CHANGED");
    expect(await readFile(file.absPath)).toHaveLength(101);
  });

  it("openAssetStream › refuses a path through a folder swapped for a symlink", async () => {
    const { dir, file } = await jobWithOutput(randomBytes(100));
    await rename(path.join(dir, "outputs"), path.join(dir, "outputs-real"));
    await symlink(path.join(dir, "outputs-real"), path.join(dir, "outputs"));
    expect(await code(openAssetStream(dir, file))).toBe("UNSAFE_PATH");
  });
});
