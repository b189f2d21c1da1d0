/**
 * Upload URLs for the whole daemon. A Convex upload URL is valid for an hour and reusable
 * within it (the backend records nothing about its use; each POST stores a new blob), so one
 * URL serves every upload until it nears expiry. Concurrent callers share one request.
 */
import type { ConvexGateway } from "../remote/ConvexGateway.js";
import { UPLOAD_URL_TTL_MS } from "../timing.js";

export class UploadUrlPool {
  private current: { url: string; fetchedAt: number } | null = null;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly gateway: Pick<ConvexGateway, "generateUploadUrls">,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() - this.current.fetchedAt < UPLOAD_URL_TTL_MS) return this.current.url;
    this.inflight ??= this.gateway
      .generateUploadUrls(1)
      .then(([url]) => {
        if (url === undefined) throw new Error("generateUploadUrls returned no URL");
        this.current = { url, fetchedAt: this.now() };
        return url;
      })
      .finally(() => {
        this.inflight = null;
      });
    return await this.inflight;
  }

  /**
   * Fetches a URL now, for uploads about to start, so the first of them does not wait for it.
   * A failure is left to the upload that next asks (`get` tries again).
   */
  prefetch(): void {
    this.get().catch(() => undefined);
  }

  /** Forget the URL (it was refused as expired). */
  invalidate(url?: string): void {
    if (url === undefined || this.current?.url === url) this.current = null;
  }
}
