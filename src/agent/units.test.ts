import { describe, expect, it } from "vitest";
import { renderUnits } from "./units.js";

describe("the agent's units", () => {
  it("carry the state directory and the store engine into the service's environment", () => {
    const units = renderUnits({ node: "/usr/bin/node", cli: "/opt/congruent/dist/cli/main.js", state: "/var/lib/congruent", store: "nix", local: "/etc/local", directory: "http://dir1:8470", tokenFile: "/etc/congruent/token", ca: "", name: "web1" });
    const service = units["congruent-manage.service"]!;
    expect(service).toContain("Environment=CONGRUENT_STATE=/var/lib/congruent\nEnvironment=CONGRUENT_STORE=nix\n");
    expect(service).not.toMatch(/@\w+@/);
  });
});
