/**
 * ConvexEngine and the convex-test patch under it: index lookups among many documents return
 * exactly the rows a full scan would (committed and pending writes alike), and the document
 * limits convex-test skips are enforced on every write.
 */
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { convexTest } from "convex-test";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexEngine } from "./ConvexEngine.js";
import { loadConvexModules, type ModuleMap } from "./convexModules.js";
import { jobRecord, TOKEN } from "./standinTestKit.js";

type Ctx = {
  db: {
    insert(table: string, doc: Record<string, unknown>): Promise<string>;
    patch(id: string, doc: Record<string, unknown>): Promise<void>;
    delete(id: string): Promise<void>;
    query(table: string): {
      withIndex(name: string, range: (q: IndexRange) => unknown): QueryChain;
      filter(pred: (q: FilterBuilder) => unknown): QueryChain;
      collect(): Promise<Array<Record<string, unknown>>>;
    };
  };
};
type QueryChain = { collect(): Promise<Array<Record<string, unknown>>>; unique(): Promise<Record<string, unknown> | null> };
type IndexRange = { eq(field: string, value: unknown): IndexRange; gt(field: string, value: unknown): IndexRange };
type FilterBuilder = { eq(a: unknown, b: unknown): unknown; field(name: string): unknown };

let modules: ModuleMap;
let engine: ConvexEngine;
const previousToken = process.env.CELSTATE_SYNC_TOKEN;

beforeAll(async () => {
  process.env.CELSTATE_SYNC_TOKEN = TOKEN;
  modules = await loadConvexModules();
  engine = await ConvexEngine.create(modules);
});

afterAll(() => {
  if (previousToken === undefined) delete process.env.CELSTATE_SYNC_TOKEN;
  else process.env.CELSTATE_SYNC_TOKEN = previousToken;
});

/** Runs an inline mutation on the engine's convex-test instance. */
async function run<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  return (await engine.convex.run(fn as never)) as T;
}

const STATUSES = ["queued", "running", "succeeded", "failed"] as const;
const JOBS = 20_000;
const jobId = (i: number) => `job-${String(i).padStart(6, "0")}`;

describe("ConvexEngine › indexed lookups", () => {
  beforeAll(async () => {
    engine.reset();
    for (let start = 0; start < JOBS; start += 1000) {
      await run(async (ctx) => {
        for (let i = start; i < start + 1000; i++) {
          const record = jobRecord(jobId(i), { status: STATUSES[i % 4]!, prompt: `p${i}` });
          await ctx.db.insert("jobs", { ...record, updatedAtUs: i, recordHash: `h${i}` });
          if (i % 10 === 0) {
            for (const filename of ["a.png", "b.png", "c.png"]) {
              await ctx.db.insert("jobAssets", {
                jobId: jobId(i),
                role: "output_png",
                filename,
                storageId: "10000_storage",
                contentType: "image/png",
                bytes: i,
                createdAt: i,
              });
            }
          }
        }
      });
    }
  }, 120_000);

  test("ConvexEngine › by_job_id finds each of 20,000 jobs and nothing else", async () => {
    const sample = Array.from({ length: 500 }, (_, k) => (k * 7919) % JOBS);
    const found = await run(async (ctx) => {
      const out: Array<Record<string, unknown> | null> = [];
      for (const i of sample) {
        out.push(
          await ctx.db
            .query("jobs")
            .withIndex("by_job_id", (q) => q.eq("jobId", jobId(i)))
            .unique(),
        );
      }
      out.push(
        await ctx.db
          .query("jobs")
          .withIndex("by_job_id", (q) => q.eq("jobId", "job-missing"))
          .unique(),
      );
      return out;
    });
    sample.forEach((i, k) => {
      expect(found[k]?.jobId).toBe(jobId(i));
      expect(found[k]?.prompt).toBe(`p${i}`);
    });
    expect(found.at(-1)).toBeNull();
    expect(engine.documentCount("jobs")).toBe(JOBS);
    expect(engine.documentCount("jobAssets")).toBe((JOBS / 10) * 3);
  });

  test("ConvexEngine › sync:getStates through the engine returns the right rows for 64 ids", async () => {
    const ids = Array.from({ length: 63 }, (_, k) => jobId(k * 310)).concat(["job-none"]);
    const result = await engine.call("query", "sync:getStates", [{ serviceToken: TOKEN, jobIds: ids }]);
    expect(result.status).toBe("success");
    const states = (result as { result: Array<{ jobId: string; recordHash: string; assets: unknown[] } | null> }).result;
    states.slice(0, 63).forEach((st, k) => {
      const i = k * 310;
      expect(st?.jobId).toBe(jobId(i));
      expect(st?.recordHash).toBe(`h${i}`);
      expect(st?.assets).toHaveLength(i % 10 === 0 ? 3 : 0);
    });
    expect(states[63]).toBeNull();
  });

  test("ConvexEngine › by_status and by_job ranges match a full scan, and follow patches and deletes", async () => {
    const counts = await run(async (ctx) =>
      Promise.all(
        STATUSES.map(
          async (st) =>
            (
              await ctx.db
                .query("jobs")
                .withIndex("by_status", (q) => q.eq("status", st))
                .collect()
            ).length,
        ),
      ),
    );
    expect(counts).toEqual([JOBS / 4, JOBS / 4, JOBS / 4, JOBS / 4]);

    const after = await run(async (ctx) =>
      (
        await ctx.db
          .query("jobAssets")
          .withIndex("by_job", (q) => q.eq("jobId", jobId(120)).gt("filename", "a.png"))
          .collect()
      ).map((r) => r.filename),
    );
    expect(after).toEqual(["b.png", "c.png"]);

    // job 1 is "running": move it to "failed", delete job 2 ("succeeded").
    await run(async (ctx) => {
      const one = await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", jobId(1)))
        .unique();
      const two = await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", jobId(2)))
        .unique();
      await ctx.db.patch(one!._id as string, { status: "failed" });
      await ctx.db.delete(two!._id as string);
    });
    const [running, failed, succeeded, gone] = await run(async (ctx) => [
      (
        await ctx.db
          .query("jobs")
          .withIndex("by_status", (q) => q.eq("status", "running"))
          .collect()
      ).map((d) => d.jobId),
      (
        await ctx.db
          .query("jobs")
          .withIndex("by_status", (q) => q.eq("status", "failed"))
          .collect()
      ).map((d) => d.jobId),
      (
        await ctx.db
          .query("jobs")
          .withIndex("by_status", (q) => q.eq("status", "succeeded"))
          .collect()
      ).length,
      await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", jobId(2)))
        .unique(),
    ]);
    expect(running).not.toContain(jobId(1));
    expect(failed).toContain(jobId(1));
    expect((failed as unknown[]).length).toBe(JOBS / 4 + 1);
    expect(succeeded).toBe(JOBS / 4 - 1);
    expect(gone).toBeNull();
    expect(engine.documentCount("jobs")).toBe(JOBS - 1);
  });

  test("ConvexEngine › a transaction sees its own pending writes through indexes, and a rollback leaves them out", async () => {
    const seen = await run(async (ctx) => {
      const lookup = async (id: string) =>
        (
          await ctx.db
            .query("jobs")
            .withIndex("by_job_id", (q) => q.eq("jobId", id))
            .unique()
        )?._id ?? null;
      await ctx.db.insert("jobs", { ...jobRecord("job-pending"), updatedAtUs: 1 });
      const renamed = await lookup(jobId(3));
      await ctx.db.patch(renamed as string, { jobId: "job-renamed" });
      const doomed = await lookup(jobId(4));
      await ctx.db.delete(doomed as string);
      return {
        inserted: await lookup("job-pending"),
        oldName: await lookup(jobId(3)),
        newName: await lookup("job-renamed"),
        deleted: await lookup(jobId(4)),
        total: (await ctx.db.query("jobs").collect()).length,
      };
    });
    expect(seen.inserted).not.toBeNull();
    expect(seen.oldName).toBeNull();
    expect(seen.newName).not.toBeNull();
    expect(seen.deleted).toBeNull();
    expect(seen.total).toBe(JOBS - 1 + 1 - 1);

    // The same writes, rolled back by a throw: nothing of them is visible afterwards.
    await expect(
      run(async (ctx) => {
        await ctx.db.insert("jobs", { ...jobRecord("job-rolled-back"), updatedAtUs: 1 });
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const after = await run(async (ctx) => ({
      rolledBack: await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", "job-rolled-back"))
        .unique(),
      renamed: await ctx.db
        .query("jobs")
        .withIndex("by_job_id", (q) => q.eq("jobId", "job-renamed"))
        .unique(),
    }));
    expect(after.rolledBack).toBeNull();
    expect(after.renamed?.prompt).toBe("p3");
  });
});

describe("ConvexEngine › index keys", () => {
  test("ConvexEngine › equality on an index finds exactly what a filtered scan finds, for every kind of value", async () => {
    const schema = defineSchema({
      items: defineTable({ k: v.optional(v.any()), n: v.number() }).index("by_k", ["k", "n"]),
    });
    const t = convexTest({ schema, modules } as never) as unknown as { run<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> };
    const keys: unknown[] = [
      0,
      -0,
      NaN,
      1,
      1.5,
      "1",
      "",
      null,
      true,
      false,
      1n,
      { a: 1 },
      { a: 1, b: 2 },
      [1],
      [1, 2],
      new Uint8Array([1, 2]).buffer,
      undefined,
    ];
    await t.run(async (ctx) => {
      let n = 0;
      for (const k of keys) {
        for (let copy = 0; copy < 2; copy++) await ctx.db.insert("items", k === undefined ? { n: n++ } : { k, n: n++ });
      }
    });
    for (const k of keys) {
      const [viaIndex, viaScan] = await t.run(async (ctx) => [
        (
          await ctx.db
            .query("items")
            .withIndex("by_k", (q) => q.eq("k", k))
            .collect()
        ).map((d) => d.n),
        (
          await ctx.db
            .query("items")
            .filter((q) => q.eq(q.field("k"), k))
            .collect()
        ).map((d) => d.n),
      ]);
      expect(viaIndex, `key ${String(k)}`).toEqual(viaScan);
      expect(viaIndex, `key ${String(k)}`).toHaveLength(2);
    }
  });
});

describe("ConvexEngine › document limits", () => {
  function nestedArrays(levels: number): unknown {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = [value];
    return value;
  }

  test("ConvexEngine › a document nested 17 levels is refused with Convex's message, 16 levels is stored", async () => {
    engine.reset();
    // The document itself is level 1: a field holding 15 nested arrays makes 16.
    await run(async (ctx) => {
      await ctx.db.insert("jobs", { ...jobRecord("deep-ok", { telemetry: { x: nestedArrays(14) } }), updatedAtUs: 1 });
    });
    await expect(
      run(async (ctx) => {
        await ctx.db.insert("jobs", { ...jobRecord("deep-bad", { telemetry: { x: nestedArrays(15) } }), updatedAtUs: 1 });
      }),
    ).rejects.toThrow("Document is too nested (nested 17 levels deep > maximum nesting 16)");
    expect(engine.documentCount("jobs")).toBe(1);
  });

  test("ConvexEngine › a patch that makes a document larger than 1 MiB is refused and rolled back", async () => {
    engine.reset();
    const id = await run(async (ctx) => await ctx.db.insert("jobs", { ...jobRecord("big"), updatedAtUs: 1 }));
    await expect(
      run(async (ctx) => {
        await ctx.db.patch(id, { prompt: "x".repeat(1024 * 1024) });
      }),
    ).rejects.toThrow("Value is too large (1 MiB > maximum size 1 MiB)");
    const prompt = await run(async (ctx) => (await ctx.db.query("jobs").collect())[0]!.prompt);
    expect(prompt).toBe("prompt of big");
  });

  test("ConvexEngine › arrays longer than 8192 elements are refused in stored documents", async () => {
    engine.reset();
    await expect(
      run(async (ctx) => {
        await ctx.db.insert("jobs", { ...jobRecord("wide", { telemetry: { list: Array(8193).fill(0) } }), updatedAtUs: 1 });
      }),
    ).rejects.toThrow("Array length is too long (8193 > maximum length 8192)");
  });
});
