/**
 * Every function the deployment exports is found by importing the `convex/` modules (not from
 * a list written here), and every public one except the public read is called over HTTP,
 * through the stand-in, the way any client on the internet could: without the token, with an
 * empty one and with a wrong one. Each must refuse with UNAUTHORIZED and change nothing. The
 * arguments are made from each function's own validator, so a function added later is
 * covered without touching this file; a positive control with the right token proves the
 * arguments pass validation, so the refusals are the token's doing.
 */
import { randomBytes } from "node:crypto";
import { makeFunctionReference } from "convex/server";
import { convexToJson, type Value } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConvexModules } from "../standin/convexModules.js";
import { createSecurityHarness, type SecurityHarness } from "./securityKit.js";

type Kind = "query" | "mutation" | "action" | "httpAction";
type Fn = { name: string; kind: Kind; isPublic: boolean; args: ValidatorJson | null };
type ValidatorJson = { type: string; value?: unknown; tableName?: string; keys?: ValidatorJson; values?: { fieldType: ValidatorJson } };
type FieldJson = { fieldType: ValidatorJson; optional: boolean };

/** The one function anyone may call. */
const PUBLIC_READ = "jobs:getPublic";

async function discover(): Promise<Fn[]> {
  const found: Fn[] = [];
  for (const [key, load] of Object.entries(await loadConvexModules())) {
    const m = /convex\/(.+)\.(ts|js|mts|mjs)$/.exec(key);
    if (!m || m[1]!.startsWith("_generated/") || m[1]!.startsWith("lib/")) continue;
    for (const [exportName, value] of Object.entries(await load())) {
      const f = value as Record<string, unknown> | null;
      if (f === null || (typeof f !== "function" && typeof f !== "object")) continue;
      const kind: Kind | null = f.isQuery ? "query" : f.isMutation ? "mutation" : f.isAction ? "action" : f.isHttp ? "httpAction" : null;
      if (kind === null) continue;
      const args = typeof f.exportArgs === "function" ? (JSON.parse((f.exportArgs as () => string)()) as ValidatorJson) : null;
      found.push({ name: `${m[1]}:${exportName}`, kind, isPublic: f.isInternal !== true, args });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A value that passes `validator`: the first member of a union, one element of an array,
 * every required field of an object (optional ones left out). Throws on a validator kind it
 * does not know, so a new kind of argument cannot silently skip the test.
 */
function sample(validator: ValidatorJson, storageId: string): Value {
  switch (validator.type) {
    case "string":
      return "x";
    case "number":
    case "float64":
      return 1;
    case "int64":
      return 1n;
    case "boolean":
      return true;
    case "null":
      return null;
    case "any":
      return null;
    case "bytes":
      return new ArrayBuffer(1);
    case "literal":
      return validator.value as Value;
    case "id":
      if (validator.tableName !== "_storage") throw new Error(`no sample id for table ${validator.tableName}`);
      return storageId;
    case "union":
      return sample((validator.value as ValidatorJson[])[0]!, storageId);
    case "array":
      return [sample(validator.value as ValidatorJson, storageId)];
    case "record":
      return {};
    case "object": {
      const out: Record<string, Value> = {};
      for (const [k, field] of Object.entries(validator.value as Record<string, FieldJson>)) {
        if (!field.optional) out[k] = sample(field.fieldType, storageId);
      }
      return out;
    }
    default:
      throw new Error(`no sample for validator type ${validator.type}: extend sample() in this test`);
  }
}

type WireAnswer = { httpStatus: number; status?: string; errorMessage?: string; errorData?: { code?: string } };

async function callOverWire(h: SecurityHarness, f: Fn, args: Record<string, Value>): Promise<WireAnswer> {
  const res = await fetch(`${h.standin.url}/api/${f.kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    // Exactly what the official client sends.
    body: JSON.stringify({ path: f.name, format: "convex_encoded_json", args: [convexToJson(args)] }),
  });
  const body = (await res.json()) as Omit<WireAnswer, "httpStatus">;
  return { httpStatus: res.status, ...body };
}

let h: SecurityHarness;
let fns: Fn[];
let storageId: string;

beforeAll(async () => {
  h = await createSecurityHarness();
  fns = await discover();
  // A real storage id, so that argument validation of `v.id("_storage")` passes.
  const url = (await h.client.mutation(makeFunctionReference<"mutation">("assets:generateUploadUrl"), { serviceToken: h.token })) as string;
  const up = await fetch(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: Buffer.from("fixture") });
  storageId = ((await up.json()) as { storageId: string }).storageId;
});
afterAll(async () => {
  await h.cleanup();
});

const BAD_TOKENS: Array<[string, Record<string, string>]> = [
  ["without a token", {}],
  ["with an empty token", { serviceToken: "" }],
  ["with a wrong token", { serviceToken: randomBytes(24).toString("hex") }],
];

describe("token over the wire", () => {
  it("convex functions › discovery finds the known functions, and only the public read takes no token", () => {
    const names = fns.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "assets:generateUploadUrl",
        "assets:generateUploadUrls",
        "assets:save",
        "jobs:upsert",
        "jobs:getPublic",
        "sync:commit",
        "gc:collectNow",
      ]),
    );
    expect(fns.filter((f) => f.kind === "httpAction")).toEqual([]);
    for (const f of fns.filter((x) => x.isPublic && x.name !== PUBLIC_READ)) {
      expect((f.args?.value as Record<string, unknown> | undefined) ?? {}, f.name).toHaveProperty("serviceToken");
    }
    expect(Object.keys((fns.find((f) => f.name === PUBLIC_READ)!.args!.value as object) ?? {})).toEqual(["jobId"]);
  });

  it("convex functions › every public function except jobs:getPublic refuses over HTTP without, with an empty and with a wrong token, and writes nothing", async () => {
    const guarded = fns.filter((f) => f.isPublic && f.name !== PUBLIC_READ);
    expect(guarded.length).toBeGreaterThanOrEqual(8);
    const refusals: string[] = [];
    for (const f of guarded) {
      const base = sample(f.args ?? { type: "object", value: {} }, storageId) as Record<string, Value>;
      delete base.serviceToken;
      for (const [label, token] of BAD_TOKENS) {
        const before = h.standin.stats();
        const answer = await callOverWire(h, f, { ...base, ...token });
        const after = h.standin.stats();
        // A function failure travels as HTTP 200 with status "error" and the ConvexError's data.
        expect(answer.httpStatus, `${f.name} ${label}`).toBe(200);
        expect(answer.status, `${f.name} ${label}: ${answer.errorMessage}`).toBe("error");
        expect(answer.errorData?.code, `${f.name} ${label}: ${answer.errorMessage}`).toBe("UNAUTHORIZED");
        expect(after.documents, `${f.name} ${label} wrote`).toEqual(before.documents);
        expect(after.blobs, `${f.name} ${label} stored or deleted a file`).toEqual(before.blobs);
        refusals.push(`${f.name} ${label}`);
      }
      // Positive control: the same arguments with the right token get past the token check
      // (success, or a function error with a code: the handler ran, arguments were valid).
      const ok = await callOverWire(h, f, { ...base, serviceToken: h.token });
      expect(ok.errorData?.code, `${f.name} with the right token: ${ok.errorMessage}`).not.toBe("UNAUTHORIZED");
      if (ok.status === "error") expect(ok.errorData?.code, `${f.name}: ${ok.errorMessage}`).toEqual(expect.any(String));
    }
    expect(refusals).toHaveLength(guarded.length * BAD_TOKENS.length);
  });

  it("convex functions › internal functions cannot be called over HTTP at all", async () => {
    const internal = fns.filter((f) => !f.isPublic);
    expect(internal.map((f) => f.name)).toContain("gc:collect");
    for (const f of internal) {
      const before = h.standin.stats();
      const answer = await callOverWire(h, f, {
        ...(sample(f.args ?? { type: "object", value: {} }, storageId) as Record<string, Value>),
        serviceToken: h.token,
      });
      expect(answer.status, f.name).toBe("error");
      expect(answer.errorMessage, f.name).toMatch(/Could not find public function/);
      expect(h.standin.stats().documents).toEqual(before.documents);
    }
  });

  it("upload URLs › an upload to a made-up or stripped upload URL is refused and stores nothing", async () => {
    const before = h.standin.stats();
    for (const query of [`?token=${randomBytes(24).toString("base64url")}`, "", "?token="]) {
      const res = await fetch(`${h.standin.url}/api/storage/upload${query}`, {
        method: "POST",
        headers: { "Content-Type": "image/png" },
        body: Buffer.from("not allowed"),
      });
      expect(res.status, query).toBe(401);
    }
    expect(h.standin.stats().blobs).toEqual(before.blobs);
  });
});
