/**
 * Preloaded into a celstate-sync process by the benchmark (`node --import ./bench/fsProbe.js`):
 * counts every open of a file under a job's `outputs/` or `trace/` folder, i.e. every asset
 * hashed, checked or uploaded, and writes the count as JSON to BENCH_FS_PROBE_OUT at exit.
 * This is how "no file hashed" is checked without trusting the daemon's own counters.
 * All asset reads go through `fs/promises.open`; the named ESM exports are re-synced so the
 * daemon's `import { open } from "node:fs/promises"` sees the counting wrapper.
 */
import { writeFileSync } from "node:fs";
import fsp from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";

const out = process.env.BENCH_FS_PROBE_OUT;
const assetPath = /[\\/](outputs|trace)[\\/][^\\/]+$/;
let assetOpens = 0;
const original = fsp.open;
fsp.open = function open(file, ...rest) {
  if (assetPath.test(String(file))) assetOpens++;
  return original.call(this, file, ...rest);
};
syncBuiltinESMExports();
if (out) process.on("exit", () => writeFileSync(out, JSON.stringify({ assetOpens })));
