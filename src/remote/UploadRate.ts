/**
 * The rate uploads to this deployment reach, measured on the last completed uploads large
 * enough for their time to be mostly transfer (MIN_SAMPLE_BYTES), so that a file too large to be
 * uploaded within the upload timeout is told apart from a deployment that does not answer.
 * The median of the last samples: one upload slowed by a busy moment does not decide it.
 */
export const MIN_SAMPLE_BYTES = 1024 * 1024;
const SAMPLES = 9;

export class UploadRate {
  private readonly samples: number[] = [];

  /** A completed upload of `bytes` that took `ms`. */
  record(bytes: number, ms: number): void {
    if (bytes < MIN_SAMPLE_BYTES || ms <= 0) return;
    this.samples.push((bytes * 1000) / ms);
    if (this.samples.length > SAMPLES) this.samples.shift();
  }

  /** Bytes per second, or null before any upload of MIN_SAMPLE_BYTES completed. */
  bytesPerSec(): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  /** How long a file of `bytes` takes at the measured rate, or null when nothing was measured. */
  expectedMs(bytes: number): number | null {
    const rate = this.bytesPerSec();
    return rate === null ? null : (bytes * 1000) / rate;
  }
}
