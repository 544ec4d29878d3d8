import path from "node:path";
import { cli, cliJson } from "../helpers.js";
import { runSwitchSuite } from "./nginx-switch.case.js";

runSwitchSuite({
  name: "embedded",
  env: () => ({ CONGRUENT_STORE: "embedded" }),
  storeDir: (_root, state) => path.join(state, "store"),
  addUnrooted: async (source, state, env) => (await cli(["store", "add", source, "--state", state], env)).stdout.trim(),
  collect: async (state, env) => (await cliJson<{ deleted: string[] }>(["gc", "--state", state], env)).deleted,
});
