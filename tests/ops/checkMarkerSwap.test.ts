import { describe, expect, it } from "vitest";
import { checkMarkerSwap } from "../../src/ops/checkMarkerSwap.js";

describe("checkMarkerSwap", () => {
  it("checkMarkerSwap › ok with the atomic exchange", () => {
    expect(checkMarkerSwap({ available: true })).toMatchObject({ id: "marker-swap", status: "ok" });
  });
  it("checkMarkerSwap › warns, with the reason, when only the older swap is possible", () => {
    const c = checkMarkerSwap({ available: false, reason: "renameat2 is Linux-only (this is darwin)" });
    expect(c.status).toBe("warn");
    expect(c.detail).toContain("Linux-only");
    expect(c.fix).toBeTruthy();
  });
  it("checkMarkerSwap › reports this machine as it is", () => {
    expect(checkMarkerSwap().status).toBe("ok");
  });
});
