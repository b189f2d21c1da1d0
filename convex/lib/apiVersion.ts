/**
 * The version of the contract between the daemon and these functions. Bump it when a function
 * the daemon calls changes shape; `sync:handshake` returns it and the daemon refuses to run
 * against a deployment with another version.
 *
 * v2: `sync:commit` takes `sourceHash`, and `sync:getStates` returns it with the status.
 * v3: records carry the component as its JSON text (`componentJson`), `jobs:getPublic` serves
 *     it as text, and `sync:handshake` takes the caller's clock (`clientTimeMs`).
 */
export const API_VERSION = 3;
