/**
 * The version of the contract between the daemon and these functions. Bump it when a function
 * the daemon calls changes shape; `sync:handshake` returns it and the daemon refuses to run
 * against a deployment with another version.
 *
 * v2: `sync:commit` takes `sourceHash`, and `sync:getStates` returns it with the status.
 * v3: records carry the component as its JSON text (`componentJson`), `jobs:getPublic` serves
 *     it as text, and `sync:handshake` takes the caller's clock (`clientTimeMs`).
 * v4: the plan's types: `createdAt`/`updatedAt` are epoch milliseconds (the ISO text travels
 *     as `createdAtIso`/`updatedAtIso`), remote states carry only `updatedAtUs`, `sync:commit`
 *     takes the job's trace events, and `sync:timeline` / `sync:getRecord` exist.
 * v5: `sync:commit` returns the state the deployment now holds for the job (`state`), so the
 *     daemon is told the result of its commit instead of working it out.
 * v6: `sync:commitMany` commits several jobs in one call, each as `sync:commit` would.
 */
export const API_VERSION = 6;
