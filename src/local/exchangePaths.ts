/**
 * Swaps two names in one folder atomically: Linux's `renameat2(…, RENAME_EXCHANGE)`, reached
 * through koffi (an FFI package that ships prebuilt binaries; nothing is compiled at install).
 * After the call each name points at the other's file, in one step: a reader of either name
 * always finds a file, never a gap. That is what lets the failure marker replace job.json
 * while the pipeline reads it with `exists()` then `open()`.
 *
 * Where it is not available (another OS, a libc without renameat2, a file system that refuses
 * the flag), `exchangePaths` says so and the caller keeps its older swap; `doctor` reports which
 * one is in use (`exchangeSupport`).
 */
import { createRequire } from "node:module";

const AT_FDCWD = -100;
const RENAME_EXCHANGE = 1 << 1;

type Renameat2 = (olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number) => number;
type Loaded = { renameat2: Renameat2; errno: () => number } | { unavailable: string };

let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded !== undefined) return loaded;
  if (process.platform !== "linux") {
    loaded = { unavailable: `renameat2 is Linux-only (this is ${process.platform})` };
    return loaded;
  }
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const libc = koffi.load("libc.so.6");
    const renameat2 = libc.func(
      "int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)",
    ) as Renameat2;
    loaded = { renameat2, errno: () => koffi.errno() };
  } catch (e) {
    loaded = { unavailable: `renameat2 could not be loaded: ${(e as Error).message.split("\n")[0]}` };
  }
  return loaded;
}

export type ExchangeOutcome = "exchanged" | { unsupported: string };

const UNSUPPORTED_ERRNO: Record<number, string> = { 22: "EINVAL", 38: "ENOSYS", 95: "EOPNOTSUPP" };
const ERRNO_NAMES: Record<number, string> = { 2: "ENOENT", 13: "EACCES", 1: "EPERM", 18: "EXDEV", 30: "EROFS", 16: "EBUSY" };

/**
 * Exchanges `a` and `b` (both must exist). "exchanged", or `{unsupported}` when this system or
 * file system cannot; any other failure throws an errno error (`code` set, like node:fs).
 */
export function exchangePaths(a: string, b: string): ExchangeOutcome {
  const lib = load();
  if ("unavailable" in lib) return { unsupported: lib.unavailable };
  if (lib.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) === 0) return "exchanged";
  const errno = lib.errno();
  const unsupported = UNSUPPORTED_ERRNO[errno];
  if (unsupported !== undefined) return { unsupported: `renameat2(RENAME_EXCHANGE) is refused here (${unsupported})` };
  const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  throw Object.assign(new Error(`${code}: renameat2 exchange of ${a} and ${b} failed`), { code, errno: -errno });
}

/** Whether the atomic exchange can be used, and if not, why: for `doctor`. */
export function exchangeSupport(): { available: true } | { available: false; reason: string } {
  const lib = load();
  return "unavailable" in lib ? { available: false, reason: lib.unavailable } : { available: true };
}
