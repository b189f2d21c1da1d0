/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as assets from "../assets.js";
import type * as crons from "../crons.js";
import type * as gc from "../gc.js";
import type * as jobs from "../jobs.js";
import type * as lib_apiVersion from "../lib/apiVersion.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_commitJob from "../lib/commitJob.js";
import type * as lib_componentText from "../lib/componentText.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_jobStore from "../lib/jobStore.js";
import type * as lib_limits from "../lib/limits.js";
import type * as lib_publicError from "../lib/publicError.js";
import type * as lib_pythonJsonText from "../lib/pythonJsonText.js";
import type * as lib_roles from "../lib/roles.js";
import type * as lib_time from "../lib/time.js";
import type * as lib_timeline from "../lib/timeline.js";
import type * as lib_topLevelMembers from "../lib/topLevelMembers.js";
import type * as lib_validators from "../lib/validators.js";
import type * as migrations from "../migrations.js";
import type * as sync from "../sync.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  assets: typeof assets;
  crons: typeof crons;
  gc: typeof gc;
  jobs: typeof jobs;
  "lib/apiVersion": typeof lib_apiVersion;
  "lib/auth": typeof lib_auth;
  "lib/commitJob": typeof lib_commitJob;
  "lib/componentText": typeof lib_componentText;
  "lib/errors": typeof lib_errors;
  "lib/jobStore": typeof lib_jobStore;
  "lib/limits": typeof lib_limits;
  "lib/publicError": typeof lib_publicError;
  "lib/pythonJsonText": typeof lib_pythonJsonText;
  "lib/roles": typeof lib_roles;
  "lib/time": typeof lib_time;
  "lib/timeline": typeof lib_timeline;
  "lib/topLevelMembers": typeof lib_topLevelMembers;
  "lib/validators": typeof lib_validators;
  migrations: typeof migrations;
  sync: typeof sync;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  migrations: import("@convex-dev/migrations/_generated/component.js").ComponentApi<"migrations">;
};
