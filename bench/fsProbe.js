/**
 * Preloaded into a celstate-sync process by the benchmark (`node --import ./bench/fsProbe.js`):
 * counts every open of a file under a job's `outputs/` or `trace/` folder, i.e. every asset
 * hashed, checked or uploaded, and writes the count as JSON to BENCH_FS_PROBE_OUT at exit.
 * This is how "no file hashed" is checked without trusting the daemon's own counters.
 * Asset reads go through `fs/promises.open` (streamed) or `fs.openSync` (read whole); the named
 * ESM exports are re-synced so the daemon's named imports see the counting wrappers.
 */
import fs, { writeFileSync } from "node:fs";
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
// Small assets are read whole with one synchronous open.
const originalSync = fs.openSync;
fs.openSync = function openSync(file, ...rest) {
  if (assetPath.test(String(file))) assetOpens++;
  return originalSync.call(this, file, ...rest);
};
syncBuiltinESMExports();
if (out) process.on("exit", () => writeFileSync(out, JSON.stringify({ assetOpens })));
