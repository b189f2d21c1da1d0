/**
 * The project's Convex functions running in convex-test, behind the checks a deployment
 * makes that convex-test does not: public functions only, the right kind, value limits on
 * arguments, results and stored documents, Convex's per-transaction limits. Also the storage
 * side that HTTP uploads need (a `_storage` row with the content type) and read-only views of
 * committed data for stats and downloads.
 *
 * Relies on the convex-test patch in `patches/` (indexed lookups, `rootDatabase`). Knows
 * nothing of HTTP: results are Convex-encoded JSON, errors are the wire's error shape.
 */
import { randomBytes } from "node:crypto";
import { makeFunctionReference } from "convex/server";
import { convexToJson, getConvexSize, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { convexTest } from "convex-test";
import schema from "../../convex/schema.js";
import { CONVEX_LIMITS, findStoredDocumentProblem, findWireValueProblem, TOO_NESTED_MESSAGE, valueNesting } from "./convexLimits.js";
import type { LoadedComponent } from "./convexComponents.js";
import type { ModuleMap } from "./convexModules.js";

export type FunctionKind = "query" | "mutation" | "action" | "any";

export type FunctionResult =
  | { status: "success"; value: JSONValue; decodedArgs: Record<string, Value>; result: Value }
  | { status: "error"; errorMessage: string; errorData?: JSONValue; code: string };

type Doc = Record<string, unknown>;

/** What the convex-test patch exposes of its database (see patches/convex-test+*.patch). */
type PatchedDatabase = {
  _documents: Record<string, Doc>;
  _tableIds: Map<string, Set<string>>;
  _storage: Record<string, Blob>;
  _addWrite(id: string, value: Doc | null): void;
  insert(table: string, value: Doc): string;
  storeFile(id: string, blob: Blob): void;
};

type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

export type BlobMeta = { size: number; sha256: string; contentType: string | undefined };

function requestId(): string {
  return randomBytes(8).toString("hex");
}

function isConvexError(e: unknown): e is Error & { data: unknown } {
  return typeof e === "object" && e !== null && Symbol.for("ConvexError") in e;
}

function kindOf(f: RegisteredFunction): "query" | "mutation" | "action" | null {
  if (f.isQuery) return "query";
  if (f.isMutation) return "mutation";
  if (f.isAction) return "action";
  return null;
}

const KIND_LABEL = { query: "Query", mutation: "Mutation", action: "Action" } as const;

/** "dir/mod.js:fn" → {module: "dir/mod", name: "fn"}; a missing name is the default export. */
function parsePath(path: string): { module: string; name: string } {
  const [mod = "", name = "default"] = path.split(":", 2);
  return { module: mod.replace(/\.js$/, ""), name };
}

export class ConvexEngine {
  private t!: ReturnType<typeof convexTest>;
  private db!: PatchedDatabase;
  private readonly functions = new Map<string, RegisteredFunction>();

  private constructor(
    private readonly modules: ModuleMap,
    private readonly components: readonly LoadedComponent[],
  ) {}

  static async create(modules: ModuleMap, components: readonly LoadedComponent[] = []): Promise<ConvexEngine> {
    const engine = new ConvexEngine(modules, components);
    for (const [key, load] of Object.entries(modules)) {
      const rel = key.replace(/^(\.\.\/)*convex\//, "").replace(/\.[^.]+$/, "");
      if (rel.startsWith("_generated/")) continue;
      const mod = await load();
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value === "function" && kindOf(value as RegisteredFunction) !== null) {
          engine.functions.set(`${rel}:${name}`, value as RegisteredFunction);
        }
      }
    }
    engine.reset();
    return engine;
  }

  /** Drops every document and blob: a fresh deployment with the same functions. */
  reset(): void {
    this.t = convexTest({ schema, modules: this.modules, transactionLimits: true } as Parameters<typeof convexTest>[0]);
    const db = (this.t as unknown as { rootDatabase?: PatchedDatabase }).rootDatabase;
    if (db === undefined || !(db._tableIds instanceof Map)) {
      throw new Error("convex-test is not patched (no rootDatabase); run `npm install` so that postinstall applies patches/");
    }
    this.db = db;
    for (const c of this.components) this.t.registerComponent(c.name, c.schema, c.modules);
    // Every write (insert, patch, replace) of every transaction passes through `_addWrite`,
    // so the document limits convex-test skips are enforced here, inside the transaction:
    // the throw rolls it back like the backend's error does.
    const addWrite = db._addWrite.bind(db);
    db._addWrite = (id, value) => {
      if (value !== null) {
        const problem = findStoredDocumentProblem(value);
        if (problem !== null) throw new Error(problem);
        this.onWrite?.(getConvexSize(value as Value));
      }
      addWrite(id, value);
    };
  }

  /** Told the size of every document written (for the write-throughput limit), when set. */
  onWrite: ((bytes: number) => void) | null = null;

  /** The convex-test instance, for tests and benchmarks that seed data directly. */
  get convex(): ReturnType<typeof convexTest> {
    return this.t;
  }

  /** The kind a registered function is defined as, or null when there is no such function. */
  kindOf(path: string): "query" | "mutation" | "action" | null {
    const { module, name } = parsePath(path);
    const func = this.functions.get(`${module}:${name}`);
    return func === undefined ? null : kindOf(func);
  }

  /** Runs a public function as the deployment would for an HTTP client. */
  async call(kind: FunctionKind, path: string, rawArgs: unknown): Promise<FunctionResult> {
    const rid = requestId();
    const fail = (message: string, code = "Error", errorData?: JSONValue): FunctionResult => ({
      status: "error",
      errorMessage: `[Request ID: ${rid}] Server Error\n${message}`,
      ...(errorData === undefined ? {} : { errorData }),
      code,
    });
    const { module, name } = parsePath(path);
    const canonical = `${module}:${name}`;
    const udf = `${module}.js:${name}`;
    const func = this.functions.get(canonical);
    if (func === undefined || !func.isPublic) {
      return fail(`Could not find public function for '${canonical}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`);
    }
    const actual = kindOf(func)!;
    if (kind !== "any" && kind !== actual) {
      return fail(`Trying to execute ${udf} as ${KIND_LABEL[kind]}, but it is defined as ${KIND_LABEL[actual]}.`);
    }

    let args: Value;
    try {
      args = this.decodeArgs(rawArgs);
    } catch (e) {
      return fail(`ArgumentValidationError: Invalid arguments for ${udf}: ${(e as Error).message}`);
    }

    let result: Value;
    try {
      const ref = makeFunctionReference(canonical);
      const t = this.t as unknown as Record<string, (ref: unknown, args: unknown) => Promise<Value>>;
      result = await t[actual]!(ref, args);
    } catch (e) {
      if (isConvexError(e)) {
        const data = e.data as Value;
        const code =
          typeof data === "object" && data !== null && typeof (data as { code?: unknown }).code === "string"
            ? (data as { code: string }).code
            : "ConvexError";
        return fail(`Uncaught ConvexError: ${e.message}`, code, convexToJson(data));
      }
      return fail(`Uncaught Error: ${e instanceof Error ? e.message : String(e)}`);
    }
    const problem = findWireValueProblem(result, "result");
    if (problem !== null) return fail(`Function ${udf} return value invalid: ${problem}`);
    return { status: "success", value: convexToJson(result), decodedArgs: args as Record<string, Value>, result };
  }

  private decodeArgs(raw: unknown): Value {
    let value = raw;
    if (Array.isArray(raw)) {
      if (raw.length !== 1) throw new Error(`expected one argument object, got ${raw.length}`);
      value = raw[0];
    }
    if (value === undefined || value === null) value = {};
    // Guard before decoding, which recurses: the encoded form nests at most one level deeper
    // than the value (a `$float` leaf), and arguments may nest 63 levels (64 once wrapped),
    // so an encoded form past 64 is too nested whatever it decodes to.
    if (valueNesting(value, CONVEX_LIMITS.valueNesting) > CONVEX_LIMITS.valueNesting) {
      throw new Error(TOO_NESTED_MESSAGE);
    }
    const decoded = jsonToConvex(value as JSONValue);
    if (decoded === null || typeof decoded !== "object" || Array.isArray(decoded) || decoded instanceof ArrayBuffer) {
      throw new Error("The arguments to a Convex function must be an object");
    }
    const problem = findWireValueProblem(decoded, "arguments");
    if (problem !== null) throw new Error(problem);
    return decoded;
  }

  /** Records an uploaded file: a `_storage` row (with its content type, as Convex keeps it). */
  async storeBlob(blob: Blob, meta: BlobMeta): Promise<string> {
    const db = this.db;
    return (await this.t.run(async () => {
      const id = db.insert("_storage", {
        sha256: meta.sha256,
        size: meta.size,
        ...(meta.contentType === undefined ? {} : { contentType: meta.contentType }),
      });
      db.storeFile(id, blob);
      return id;
    })) as string;
  }

  /** Committed metadata of a stored file, or null once deleted. Never sees open transactions. */
  blobMeta(storageId: string): BlobMeta | null {
    const doc = this.db._documents[storageId];
    if (doc === undefined || !storageId.endsWith("_storage")) return null;
    return {
      size: doc.size as number,
      sha256: doc.sha256 as string,
      contentType: doc.contentType as string | undefined,
    };
  }

  /** The Blob convex-test holds for a stored file (for files stored without an HTTP upload). */
  blobOf(storageId: string): Blob | null {
    return this.blobMeta(storageId) === null ? null : (this.db._storage[storageId] ?? null);
  }

  /**
   * A table's committed documents as a snapshot export writes them: one Convex-JSON object
   * per document, system fields included, in creation order.
   */
  exportTable(table: string): JSONValue[] {
    const ids = [...(this.db._tableIds.get(table) ?? new Set<string>())];
    const docs = ids.map((id) => this.db._documents[id]).filter((d): d is Doc => d !== undefined);
    docs.sort((a, b) => (a._creationTime as number) - (b._creationTime as number));
    return docs.map((d) => convexToJson(d as Value));
  }

  /** Runs any function, internal ones included, as `npx convex run` does with a deploy key. */
  async runFunction(kind: "query" | "mutation" | "action", path: string, args: Record<string, Value> = {}): Promise<Value> {
    const t = this.t as unknown as Record<string, (ref: unknown, args: unknown) => Promise<Value>>;
    return await t[kind]!(makeFunctionReference(path), args);
  }

  documentCount(table: string): number {
    return this.db._tableIds.get(table)?.size ?? 0;
  }

  blobTotals(): { count: number; bytes: number } {
    let bytes = 0;
    const ids = this.db._tableIds.get("_storage") ?? new Set<string>();
    for (const id of ids) bytes += (this.db._documents[id]?.size as number | undefined) ?? 0;
    return { count: ids.size, bytes };
  }

  /** Runs the internal garbage collector, as the hourly cron would. */
  async runGc(graceMs: number): Promise<{ scanned: number; deleted: number; more: boolean }> {
    return (await this.t.mutation(makeFunctionReference<"mutation">("gc:collect"), { graceMs })) as {
      scanned: number;
      deleted: number;
      more: boolean;
    };
  }
}
