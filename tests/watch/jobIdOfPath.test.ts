import path from "node:path";
import { describe, expect, it } from "vitest";
import { jobIdOfPath } from "../../src/watch/jobIdOfPath.js";

const JOBS = path.resolve("jobs");
const ID = "11111111-2222-4333-8444-555555555555";

describe("jobIdOfPath", () => {
  it.each([
    [ID, ID],
    [`${ID}/job.json`, ID],
    [`${ID}/outputs/a.png`, ID],
    [`${ID}/outputs/.hidden_gem.png`, ID],
    [`${ID}/trace`, ID],
    [`${ID}/trace/trace.json`, ID],
    // A file in the jobs folder has a job-folder name: the daemon tells it by the event's kind.
    ["notes.txt", "notes.txt"],
    // No job folder's.
    [".celstate-sync", null],
    [".celstate-sync/stuck.json", null],
    ["tmp-staging", null],
    ["tmp-staging/job.json", null],
    // Inside a job, never synced.
    [`${ID}/studio`, null],
    [`${ID}/studio/white.png`, null],
    [`${ID}/tmpq9w8e7r6`, null],
    [`${ID}/trace/tmpa1b2c3d4.json`, null],
    [`${ID}/.celstate-sync-0011223344556677.tmp`, null],
    // The jobs folder itself, and what is outside it.
    ["", null],
    ["..", null],
    [`../${ID}`, null],
  ])("jobIdOfPath › %s → %s", (rel, expected) => {
    expect(jobIdOfPath(JOBS, path.join(JOBS, ...rel.split("/")))).toBe(expected);
  });

  it("jobIdOfPath › a path on another root is no job's", () => {
    expect(jobIdOfPath(JOBS, path.join(path.sep, "elsewhere", ID, "job.json"))).toBe(null);
  });
});
