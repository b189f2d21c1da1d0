/**
 * Writes jobs exactly the way the Celstate pipeline does, for tests, the demo and the
 * benchmarks: `job.json` through a temp file `tmp<random>` + rename, PNGs in place in chunks
 * (a reader can see them half-written), `trace/trace.json` through `trace/tmp<random>.json`,
 * Python's `json.dump(indent=2)` text with NaN/Infinity in telemetry, and the stage order
 * queued → running → processing (outputs written, component set) → succeeded → trace.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, open, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { stringifyPythonJson } from "../../src/local/pythonJson.js";
import { makePngOfSize } from "./png.js";

export type JobSpec = {
  id?: string;
  name?: string;
  /** Approximate size of the output PNG in bytes (debug and mask are half). */
  pngBytes?: number;
  withMask?: boolean;
  type?: string;
};

let seq = 0;
/** Strictly increasing timestamps, so consecutive stages never share an updated_at. */
export function nextIso(): string {
  const now = Date.now() * 1000;
  seq = Math.max(seq + 1, now);
  const ms = Math.floor(seq / 1000);
  const us = seq % 1000;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, `.$1${String(us).padStart(3, "0")}+00:00`);
}

export async function writeJsonAtomic(dir: string, file: string, value: unknown, tmpSuffix = ""): Promise<void> {
  const tmp = path.join(dir, `tmp${randomBytes(4).toString("hex")}${tmpSuffix}`);
  await writeFile(tmp, stringifyPythonJson(value));
  await rename(tmp, path.join(dir, file));
}

/** cv2.imwrite-style: open, write in chunks, close. Not atomic. */
export async function writeInPlace(file: string, data: Buffer, chunkBytes = 64 * 1024, betweenChunks?: () => Promise<void>): Promise<void> {
  const fh = await open(file, "w");
  try {
    for (let off = 0; off < data.length; off += chunkBytes) {
      await fh.write(data, off, Math.min(chunkBytes, data.length - off), off);
      if (betweenChunks) await betweenChunks();
    }
  } finally {
    await fh.close();
  }
}

export type StageName = "queued" | "running" | "processing" | "succeeded" | "failed" | "trace";

export class PipelineJob {
  readonly id: string;
  readonly dir: string;
  readonly name: string;
  record: Record<string, unknown>;

  constructor(
    readonly jobsDir: string,
    readonly spec: JobSpec = {},
  ) {
    this.id = spec.id ?? randomUUID();
    this.dir = path.join(jobsDir, this.id);
    this.name = spec.name ?? `asset_${this.id.slice(0, 8)}`;
    const now = nextIso();
    this.record = {
      id: this.id,
      type: spec.type ?? "container",
      layout_intent: "column",
      prompt: `a test asset ${this.name}`,
      style_context: "cozy storybook, warm palette",
      name: this.name,
      created_at: now,
      render_size_hint: 160,
      status: "queued",
      updated_at: now,
      progress_stage: "initialized",
      component: null,
      error: null,
    };
  }

  get assetNames(): string[] {
    return [`${this.name}.png`, ...(this.spec.withMask === false ? [] : [`${this.name}_mask.png`]), `${this.name}_debug.png`];
  }

  private async save(patch: Record<string, unknown>): Promise<void> {
    this.record = { ...this.record, ...patch, updated_at: nextIso() };
    await writeJsonAtomic(this.dir, "job.json", this.record);
  }

  async queued(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(this.dir, "job.json", this.record);
  }

  async running(): Promise<void> {
    await this.save({ status: "running", progress_stage: "generating_passes" });
  }

  async writeOutputs(opts: { betweenChunks?: () => Promise<void> } = {}): Promise<void> {
    const out = path.join(this.dir, "outputs");
    await mkdir(out, { recursive: true });
    await mkdir(path.join(this.dir, "studio"), { recursive: true });
    await writeFile(path.join(this.dir, "studio", "white.png"), makePngOfSize(1024, 7));
    const bytes = this.spec.pngBytes ?? 32 * 1024;
    let seed = Number.parseInt(this.id.slice(0, 8), 16) || 1;
    for (const name of this.assetNames) {
      const size = name === `${this.name}.png` ? bytes : Math.floor(bytes / 2);
      await writeInPlace(path.join(out, name), makePngOfSize(size, seed++), 64 * 1024, opts.betweenChunks);
    }
  }

  component(): Record<string, unknown> {
    return {
      manifest: {
        version: "0.1",
        id: this.name,
        type: "static",
        intrinsics: { size: { width: 512, height: 384 }, ...(this.spec.withMask === false ? {} : { mask_asset: `${this.name}_mask.png` }) },
        states: { idle: { clip: `${this.name}.png`, loop: false } },
        transitions: [],
      },
      assets: Object.fromEntries(this.assetNames.map((n) => [n, null])),
      telemetry: { alpha_coverage: 0.6412, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
    };
  }

  async processing(): Promise<void> {
    await this.writeOutputs();
    await this.save({
      progress_stage: "processing_matting",
      component: this.component(),
      telemetry: { alpha_coverage: 0.6412, edge_noise: Number.NaN, max_gradient: Number.POSITIVE_INFINITY },
    });
  }

  async succeeded(): Promise<void> {
    await this.save({ status: "succeeded", progress_stage: "completed" });
  }

  async failed(message = "Rate Limit Exceeded. Please try again later.", retryAfter?: number): Promise<void> {
    await this.save({
      status: "failed",
      progress_stage: "error",
      error: `[TraceID: ${this.id}] ${message}`,
      ...(retryAfter === undefined ? {} : { retry_after: retryAfter }),
    });
  }

  async trace(): Promise<void> {
    const dir = path.join(this.dir, "trace");
    await mkdir(dir, { recursive: true });
    await writeJsonAtomic(
      dir,
      "trace.json",
      {
        job_id: this.id,
        created_at: this.record.created_at,
        duration_ms: 29387,
        events: [{ timestamp: nextIso(), event_type: "output", data: { status: this.record.status } }],
      },
      ".json",
    );
  }

  /** Every stage of a successful job, in order, with `pause` awaited between stages. */
  async runToSuccess(pause: () => Promise<unknown> = async () => {}): Promise<void> {
    await this.queued();
    await pause();
    await this.running();
    await pause();
    await this.processing();
    await pause();
    await this.succeeded();
    await pause();
    await this.trace();
  }
}
