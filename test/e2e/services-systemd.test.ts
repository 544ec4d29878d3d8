import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { conformanceTests, runServiceManagerConformance } from "../../src/services/manager.case.js";
import { SystemdManager } from "../../src/services/systemd/index.js";

const systemdIsPid1 = existsSync("/run/systemd/system") && readFileSync("/proc/1/comm", "utf8").trim() === "systemd";

runServiceManagerConformance({
  name: "systemd",
  // systemd loads units only from its own paths: /run/systemd/system is the runtime one,
  // gone at reboot, so a test run leaves nothing in /etc.
  create: (stateDir) => new SystemdManager({ stateDir, unitDir: systemdIsPid1 ? "/run/systemd/system" : path.join(os.tmpdir(), "units") }),
  skip: systemdIsPid1 ? [] : [{ reason: "systemd is not PID 1 here", tests: conformanceTests }],
});
