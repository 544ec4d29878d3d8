import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runStoreConformance } from "../../engine.case.js";
import { removeTree } from "../../nar.js";
import { EmbeddedStore } from "./index.js";

runStoreConformance({
  name: "embedded",
  create() {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "embedded-store-"));
    return { engine: new EmbeddedStore({ stateDir }), realPath: (p) => p, cleanup: () => removeTree(stateDir) };
  },
});
