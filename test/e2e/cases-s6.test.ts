import { runMemcachedCases, runPostgresqlCases, runRedisCases } from "./cases/data.case.js";
import { runNginxCases } from "./cases/nginx.case.js";
import { localTarget } from "../support/target.js";

// The same cases as test/e2e/systemd-*.test.ts, on this machine under s6.
const target = () => localTarget();
runNginxCases("s6", target);
runPostgresqlCases("s6", target);
runRedisCases("s6", target);
runMemcachedCases("s6", target);
