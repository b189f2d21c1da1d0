/**
 * Builds dist/ once before the suites, so the CLI tests that spawn `bin/celstate-sync.js`
 * run the current sources without each child racing to rebuild them.
 */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.js"], { stdio: "inherit" });
}
