/**
 * The shipped Grafana dashboard (deploy/grafana/celstate-sync.json): valid JSON an import
 * accepts (a datasource input, unique panel ids, a uid), and every query, variables included,
 * reads only metrics the daemon exports (scraped from its registry).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { daemonMetricNames } from "../helpers/daemonExposition.js";
import { metricNamesIn } from "../helpers/promqlNames.js";

const FILE = path.resolve(import.meta.dirname, "../../deploy/grafana/celstate-sync.json");

type Panel = { id: number; type: string; title: string; targets?: Array<{ expr: string }>; panels?: Panel[] };
type Dashboard = {
  uid: string;
  title: string;
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  templating: { list: Array<{ name: string; query: { query: string } | string }> };
  panels: Panel[];
};

const dashboard = JSON.parse(readFileSync(FILE, "utf8")) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** `label_values(metric{…}, label)` reads `metric`; any other variable query is PromQL. */
function variableMetrics(q: string): string[] {
  const lv = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(q);
  return lv ? [lv[1]!] : metricNamesIn(q.replace(/^query_result\((.*)\)$/, "$1"));
}

describe("deploy › Grafana dashboard", () => {
  it("grafana dashboard › importable: a uid, a Prometheus datasource input, unique panel ids, every data panel with a query", () => {
    expect(dashboard.uid).toBe("celstate-sync");
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" })]);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== "row")) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr, p.title).toBeTruthy();
    }
  });

  it("grafana dashboard › every query reads only metrics the daemon exports, and every metric of ours is shown", async () => {
    const exported = await daemonMetricNames();
    const shown = new Set<string>();
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        const read = metricNamesIn(t.expr);
        expect(read.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const name of read) {
          expect(exported.has(name), `${p.title} reads ${name}`).toBe(true);
          shown.add(name);
        }
      }
    }
    for (const v of dashboard.templating.list) {
      const q = typeof v.query === "string" ? v.query : v.query.query;
      for (const name of variableMetrics(q)) expect(exported.has(name), `variable ${v.name} reads ${name}`).toBe(true);
    }
    const ours = [...exported].filter((n) => n.startsWith("celstate_sync_") && !/_(?:bucket|sum|count)$/.test(n));
    const missing = ours.filter((n) => !shown.has(n) && !shown.has(`${n}_bucket`));
    expect(missing).toEqual([]);
  });
});
