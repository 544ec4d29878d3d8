import { runRedisCases } from "./cases/data.case.js";
import { useBox } from "../support/box-suite.js";
import { describeUnless } from "../support/skip.js";
import { boxTarget } from "../support/target.js";

const env = useBox();
describeUnless(env.unavailable)("end to end under systemd (PID 1 of a systemd-nspawn box)", () => runRedisCases("systemd", () => boxTarget(env)));
