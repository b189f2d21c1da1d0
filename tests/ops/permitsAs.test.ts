import { describe, expect, it } from "vitest";
import { mayReplaceIn, permitsAs, type Access, type ServiceUser } from "../../src/ops/permitsAs.js";

const alice: ServiceUser = { name: "alice", uid: 1000, gid: 1000, groups: [1000, 50] };
const root: ServiceUser = { name: "root", uid: 0, gid: 0, groups: [0] };
const DIR = 0o040000;
const FILE = 0o100000;

describe("permitsAs", () => {
  const cases: Array<[string, { mode: number; uid: number; gid: number }, ServiceUser, Access, boolean]> = [
    ["the owner's bits for the owner", { mode: DIR | 0o700, uid: 1000, gid: 0 }, alice, { read: true, write: true, search: true }, true],
    [
      "the owner's bits only, even where the group's would allow more",
      { mode: DIR | 0o577, uid: 1000, gid: 50 },
      alice,
      { write: true },
      false,
    ],
    ["the group's bits for the primary group", { mode: DIR | 0o070, uid: 0, gid: 1000 }, alice, { write: true, search: true }, true],
    ["the group's bits for a supplementary group", { mode: DIR | 0o070, uid: 0, gid: 50 }, alice, { write: true, search: true }, true],
    [
      "the group's bits only, even where the others' would allow more",
      { mode: DIR | 0o057, uid: 0, gid: 50 },
      alice,
      { write: true },
      false,
    ],
    ["the others' bits for anyone else", { mode: DIR | 0o755, uid: 0, gid: 0 }, alice, { read: true, search: true }, true],
    ["no write in a folder that is 0755 and someone else's", { mode: DIR | 0o755, uid: 0, gid: 0 }, alice, { write: true }, false],
    ["no way through a folder without x", { mode: DIR | 0o666, uid: 0, gid: 0 }, alice, { search: true }, false],
    ["root reads and writes anything", { mode: FILE | 0o000, uid: 1000, gid: 1000 }, root, { read: true, write: true }, true],
    ["root goes through a folder with no x bit at all", { mode: DIR | 0o000, uid: 1000, gid: 1000 }, root, { search: true }, true],
  ];
  it.each(cases)("permitsAs › %s", (_what, st, user, want, expected) => {
    expect(permitsAs(st, user, want)).toBe(expected);
  });
});

describe("mayReplaceIn", () => {
  const file = { mode: FILE | 0o644, uid: 2000, gid: 2000 };
  it("mayReplaceIn › a writable folder without the sticky bit: yes", () => {
    expect(mayReplaceIn({ mode: DIR | 0o777, uid: 0, gid: 0 }, file, alice)).toBe(true);
  });
  it("mayReplaceIn › a sticky folder: only the file's or the folder's owner", () => {
    expect(mayReplaceIn({ mode: DIR | 0o1777, uid: 0, gid: 0 }, file, alice)).toBe(false);
    expect(mayReplaceIn({ mode: DIR | 0o1777, uid: 0, gid: 0 }, { ...file, uid: 1000 }, alice)).toBe(true);
    expect(mayReplaceIn({ mode: DIR | 0o1777, uid: 1000, gid: 0 }, file, alice)).toBe(true);
  });
  it("mayReplaceIn › a folder the user cannot write: no", () => {
    expect(mayReplaceIn({ mode: DIR | 0o755, uid: 0, gid: 0 }, file, alice)).toBe(false);
  });
});
