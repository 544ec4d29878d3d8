import { promises as fs } from "node:fs";
import path from "node:path";
import { runServiceManagerConformance } from "../../src/services/manager.case.js";
import { S6Manager } from "../../src/services/s6/index.js";

runServiceManagerConformance({
  name: "s6",
  create: (stateDir) => new S6Manager({ stateDir }),
  supervisorPids: async (stateDir) => {
    const pid = Number(await fs.readFile(path.join(stateDir, "services/s6/svscan.pid"), "utf8").catch(() => "0"));
    return pid > 0 ? [pid] : [];
  },
});
