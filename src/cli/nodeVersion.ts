/**
 * The oldest Node.js this runs on, checked before anything else is loaded: an older Node fails
 * deep inside a dependency with a message that names neither the cause nor the fix.
 * Node 20.19 is the first 20.x that loads ES modules from CommonJS (`require(esm)`), which
 * several dependencies rely on; the same floor as `engines` in package.json.
 */
export const MIN_NODE = { major: 20, minor: 19 } as const;

/** Its error code (src/errors/codes.ts); the registry itself is not loaded this early. */
const CODE = "NODE_TOO_OLD";

/** A one-line message when `version` (like `process.versions.node`) is too old, else null. */
export function unsupportedNodeMessage(version: string): string | null {
  const [major = 0, minor = 0] = version.split(".").map((n) => Number.parseInt(n, 10));
  const ok = major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
  if (ok) return null;
  return `celstate-sync: ${CODE}: Node.js ${version} is too old; celstate-sync needs Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or newer (install a current LTS, e.g. Node 24)`;
}
