/**
 * The version of the contract between the daemon and these functions. Bump it when a function
 * the daemon calls changes shape; `sync:handshake` returns it and the daemon refuses to run
 * against a deployment with another version.
 */
export const API_VERSION = 1;
