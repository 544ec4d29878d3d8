import { benchAgentUnchanged } from "./agent-unchanged.js";
import { benchDashboard } from "./dashboard.js";
import { benchDirectoryFlood } from "./directory-flood.js";
import { benchDirectoryPoll } from "./directory-poll.js";
import { benchFleet } from "./fleet.js";
import { benchMigrate } from "./migrate.js";
import { benchPostgresqlReload } from "./postgresql-reload.js";
import { benchProfileSwitch } from "./profile-switch.js";
import { benchSwitchUnchanged } from "./switch-unchanged.js";
import { benchUserscan } from "./userscan.js";
import { benchVulnscan } from "./vulnscan.js";

// Benchmarks print ratios against a reference measured in the same run; they are not tests.
// `npm run bench -- NAME` runs one of them.
const only = process.argv[2];
const benches: Record<string, () => Promise<void>> = {
  "switch-unchanged": benchSwitchUnchanged,
  "directory-poll": benchDirectoryPoll,
  "directory-flood": benchDirectoryFlood,
  fleet: benchFleet,
  "agent-unchanged": benchAgentUnchanged,
  userscan: benchUserscan,
  vulnscan: benchVulnscan,
  "postgresql-reload": benchPostgresqlReload,
  migrate: benchMigrate,
  "profile-switch": benchProfileSwitch,
  dashboard: benchDashboard,
};
if (only && !(only in benches)) {
  console.error(`unknown benchmark "${only}"; known: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  console.log(`# ${name}`);
  await run();
}
