/**
 * A user's uid, primary group and every group it is in, for `doctor --as-user`. Asked of
 * `id`, which goes through the system's user database (NSS: /etc/passwd and /etc/group, or
 * LDAP/SSSD where configured) exactly as systemd does for `User=`: `id -G` lists the groups
 * initgroups() gives the user's processes, so the daemon started by the unit has the same.
 * Reading /etc/group ourselves would miss users and groups that live elsewhere.
 */
import { execFileSync } from "node:child_process";
import { SyncError } from "../errors/SyncError.js";
import type { ServiceUser } from "./permitsAs.js";

function id(flag: "-u" | "-g" | "-G", name: string): number[] {
  // `--`: a name that begins with "-" is a name, not an option.
  const out = execFileSync("id", [flag, "--", name], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return out.trim().split(/\s+/).map(Number);
}

export function lookupUser(name: string): ServiceUser {
  try {
    const [uid] = id("-u", name);
    const [gid] = id("-g", name);
    return { name, uid: uid!, gid: gid!, groups: id("-G", name) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why =
      err.code === "ENOENT"
        ? "`id` is not installed, so users cannot be looked up"
        : (err.stderr ?? "").trim().split(": ").pop() || err.message;
    throw new SyncError("USER_UNKNOWN", `no user \`${name}\` on this host (${why}); create the service user first (README, Production)`, {
      cause: e,
    });
  }
}
