/**
 * Correctness checks gathered over every run of a scenario: a check passes only if it held in
 * every run; the detail kept is the first failure's (or the last success's).
 */
import type { Check } from "./Scenario.js";

export class CheckList {
  private readonly byName = new Map<string, Check>();

  expect(name: string, ok: boolean, detail: string): boolean {
    const prev = this.byName.get(name);
    if (prev === undefined || prev.ok) this.byName.set(name, { name, ok, detail });
    return ok;
  }

  get all(): Check[] {
    return [...this.byName.values()];
  }
}
