import { conformanceTests, runServiceManagerConformance } from "../../src/services/manager.case.js";
import { useBox } from "../support/box-suite.js";

// systemd as PID 1 of a systemd-nspawn box: the real backend, not a stand-in.
const env = useBox();

runServiceManagerConformance({
  name: "systemd (PID 1 of a systemd-nspawn box)",
  create: (stateDir) => env.agent.manager(stateDir),
  probes: new Proxy({} as typeof env.agent.probes, { get: (_t, name: keyof typeof env.agent.probes) => env.agent.probes[name] }),
  tempDir: async () => env.box.tempDir("services-"),
  skip: env.unavailable ? [{ reason: env.unavailable, tests: conformanceTests }] : [],
});
