/**
 * `doctor`'s line on how the failure marker replaces job.json: the atomic exchange (no reader
 * ever finds job.json missing) or, where it is unavailable, the older set-aside swap, which
 * leaves job.json missing for microseconds: a pipeline reading it with `exists()` then `open()`
 * can fail then.
 */
import { exchangeSupport } from "../local/exchangePaths.js";
import type { DoctorCheck } from "./DoctorCheck.js";

export function checkMarkerSwap(support = exchangeSupport()): DoctorCheck {
  if (support.available) {
    return {
      id: "marker-swap",
      title: "marker swap",
      status: "ok",
      detail: "atomic exchange (renameat2 RENAME_EXCHANGE): job.json is never missing",
    };
  }
  return {
    id: "marker-swap",
    title: "marker swap",
    status: "warn",
    detail: `set-aside swap: job.json is missing for a few microseconds per marker (${support.reason})`,
    fix: "run on Linux with glibc 2.28+ and a local file system that supports RENAME_EXCHANGE (ext4, xfs, btrfs, tmpfs)",
  };
}
