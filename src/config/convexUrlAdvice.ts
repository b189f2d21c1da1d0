/**
 * What to do when no Convex deployment URL is set: where it can go, and, when a Convex project
 * template wrote it under a web app's name (`VITE_CONVEX_URL`, `NEXT_PUBLIC_CONVEX_URL`), that
 * celstate-sync reads `CONVEX_URL`. Shared by every command that needs the URL and by `doctor`.
 */
import type { LoadedConfig } from "./loadConfig.js";

export function convexUrlAdvice(urlLookalike: LoadedConfig["urlLookalike"]): string {
  const where = "pass --convex-url, set CONVEX_URL (or put it in .env.local), or set convexUrl in celstate-sync.config.json";
  if (urlLookalike === null) return where;
  return `${where}; ${urlLookalike.where} has ${urlLookalike.variable}, the name a Convex project template gives it for a web app, but celstate-sync reads CONVEX_URL: set CONVEX_URL to the same value`;
}
