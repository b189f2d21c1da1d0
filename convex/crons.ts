import { cronJobs } from "convex/server";
import { internal } from "./_generated/api.js";

const crons = cronJobs();
crons.interval("collect orphan blobs", { hours: 1 }, internal.gc.collect, {});
export default crons;
