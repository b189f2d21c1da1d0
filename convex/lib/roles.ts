/**
 * The roles an asset plays in a job: the one list of them. The Convex validators
 * (validators.ts), the config schema's asset rules and the daemon's types all derive from it,
 * so a role added here is accepted everywhere at once. Plain values, no Convex import: the
 * daemon's config loads it too.
 */
export const ASSET_ROLES = ["output_png", "debug_png", "mask_png", "trace_json"] as const;

export type AssetRole = (typeof ASSET_ROLES)[number];
