import { describe, expect, it } from "vitest";
import { openStore } from "./index.js";

describe("openStore", () => {
  it("picks the embedded engine by default and the nix engine on request", () => {
    expect(openStore({ stateDir: "/var/lib/congruent" }).storeDir).toBe("/var/lib/congruent/store");
    expect(openStore({ stateDir: "/var/lib/congruent", engine: "nix", nixStoreUri: "/tmp/x" }).storeDir).toBe("/nix/store");
  });
});
