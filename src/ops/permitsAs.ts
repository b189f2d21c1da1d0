/**
 * Whether a user may read, write or enter a file, decided from its mode bits alone, as the
 * kernel does (without ACLs): the owner's bits for the owner, else the group's for a member of
 * the file's group (primary or supplementary), else the others'; only one class ever applies.
 * Root (uid 0) reads and writes anything and enters any folder. Pure: `doctor --as-user` stats
 * the files as root and asks here about the service user, who cannot be asked directly.
 */
export type ServiceUser = {
  name: string;
  uid: number;
  /** The primary group. */
  gid: number;
  /** Every group the user is in (primary included), as its processes get them (initgroups). */
  groups: readonly number[];
};

export type Access = { read?: boolean; write?: boolean; search?: boolean };

export type Owned = { mode: number; uid: number; gid: number };

const S_ISVTX = 0o1000;

export function permitsAs(st: Owned, user: ServiceUser, want: Access): boolean {
  // Root's reads and writes pass every mode check (CAP_DAC_OVERRIDE), and so does entering a
  // folder (executing a file would need one x bit, which is not asked here).
  if (user.uid === 0) return true;
  const shift = user.uid === st.uid ? 6 : user.gid === st.gid || user.groups.includes(st.gid) ? 3 : 0;
  const bits = (st.mode >> shift) & 0o7;
  return (!want.read || (bits & 0o4) !== 0) && (!want.write || (bits & 0o2) !== 0) && (!want.search || (bits & 0o1) !== 0);
}

/**
 * Whether the user may rename another file over `file` in `folder` (what a failure marker does
 * to job.json): write and search on the folder, and, in a sticky folder (like /tmp), owning the
 * file or the folder.
 */
export function mayReplaceIn(folder: Owned, file: Owned, user: ServiceUser): boolean {
  if (!permitsAs(folder, user, { write: true, search: true })) return false;
  if ((folder.mode & S_ISVTX) === 0 || user.uid === 0) return true;
  return user.uid === file.uid || user.uid === folder.uid;
}
