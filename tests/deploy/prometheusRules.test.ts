/**
 * The shipped alert rules (deploy/prometheus/celstate-sync.rules.yml): promtool's own check and
 * its unit tests of every alert (celstate-sync.rules.test.yml) where promtool is installed
 * (Debian's `prometheus` package), and always a parse of the file: the alerts the README names
 * are there, well formed, and read only metrics the daemon exports (scraped from its registry).
 * promtool also lints the daemon's own exposition.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { daemonExposition, daemonMetricNames, PROMETHEUS_SERIES } from "../helpers/daemonExposition.js";
import { metricNamesIn } from "../helpers/promqlNames.js";

const DIR = path.resolve(import.meta.dirname, "../../deploy/prometheus");
const RULES = path.join(DIR, "celstate-sync.rules.yml");
const RULES_TEST = path.join(DIR, "celstate-sync.rules.test.yml");

const promtool = spawnSync("promtool", ["--version"], { encoding: "utf8" });
const hasPromtool = promtool.error === undefined && promtool.status === 0;
if (!hasPromtool)
  console.info(
    "promtool is not installed (Debian: apt-get install prometheus): its checks are skipped; the rules are still parsed and checked",
  );

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
const groups = (parse(readFileSync(RULES, "utf8")) as { groups: Array<{ name: string; rules: Rule[] }> }).groups;
const rules = groups.flatMap((g) => g.rules);

function run(args: string[], input?: string) {
  const r = spawnSync("promtool", args, { encoding: "utf8", cwd: DIR, ...(input === undefined ? {} : { input }) });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("deploy › Prometheus rules", () => {
  it.skipIf(!hasPromtool)("prometheus rules › promtool check rules accepts the file", () => {
    const r = run(["check", "rules", RULES]);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status, r.out).toBe(0);
  });

  it.skipIf(!hasPromtool)(
    "prometheus rules › promtool test rules: every alert fires where it must and stays quiet where it must not",
    () => {
      const r = run(["test", "rules", RULES_TEST]);
      expect(r.status, r.out).toBe(0);
      const tested = new Set(
        (parse(readFileSync(RULES_TEST, "utf8")) as { tests: Array<{ alert_rule_test: Array<{ alertname: string }> }> }).tests.flatMap(
          (t) => t.alert_rule_test.map((a) => a.alertname),
        ),
      );
      expect([...tested].sort()).toEqual(rules.map((x) => x.alert).sort());
    },
  );

  it.skipIf(!hasPromtool)("prometheus rules › promtool check metrics finds nothing to say about the daemon's own metrics", async () => {
    const r = run(["check", "metrics"], await daemonExposition());
    // prom-client's default metrics (nodejs_active_handles_total, …) keep their conventional names.
    const ours = r.out.split("\n").filter((l) => l.startsWith("celstate_sync_"));
    expect(ours).toEqual([]);
  });

  it("prometheus rules › the alerts the README names, each well formed", () => {
    expect(groups.map((g) => g.name)).toEqual(["celstate-sync"]);
    const names = rules.map((r) => r.alert);
    for (const a of ["CelstateSyncDeploymentDown", "CelstateSyncQueueGrowing", "CelstateSyncMarkersWritten", "CelstateSyncNoSuccess"])
      expect(names).toContain(a);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^CelstateSync[A-Z]\w+$/);
      expect(typeof r.expr, r.alert).toBe("string");
      if (r.for !== undefined) expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
    const readme = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
    for (const a of names) expect(readme, `${a} in the README`).toContain(a!);
  });

  it("prometheus rules › every expression reads only metrics the daemon exports", async () => {
    const exported = await daemonMetricNames();
    for (const r of rules) {
      const read = metricNamesIn(r.expr);
      expect(read.length, r.alert).toBeGreaterThan(0);
      for (const name of read) expect(exported.has(name) || PROMETHEUS_SERIES.has(name), `${r.alert} reads ${name}`).toBe(true);
    }
  });

  it("prometheus rules › the name scan sees a metric that is not exported (positive control)", async () => {
    const exported = await daemonMetricNames();
    const read = metricNamesIn(
      'sum by (job) (rate(celstate_sync_uploads_total{job="x"}[5m])) > 0 and on (job) celstate_sync_backend_up offset 5m',
    );
    expect(read.sort()).toEqual(["celstate_sync_backend_up", "celstate_sync_uploads_total"]);
    expect(exported.has("celstate_sync_uploads_total")).toBe(false);
  });
});
