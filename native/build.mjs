// Builds the native userscan reader (native/userscan: C, Node-API) from source with node-gyp;
// run by `npm ci` (the package's install script) and `npm run build:native`. It never fails the
// install: on a host without a compiler (or Node's headers) it says so and exits 0, and
// `congruent userscan` uses its TypeScript reader, with the same results, slower.
//
//   node native/build.mjs [DIR]     DIR: the addon's source directory (default native/userscan)
/* global process, console */
import { spawnSync } from "node:child_process";
import path from "node:path";

const dir = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, "userscan"));
// npm hands its own node-gyp to scripts; run by hand, the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [cmd, ...args] = gyp ? [process.execPath, gyp] : ["node-gyp"];
const r = spawnSync(cmd, [...args, "rebuild", "--loglevel=warn", "--directory", dir], { stdio: ["ignore", "inherit", "inherit"] });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`;
  console.warn(`congruent: the native userscan reader was not built (${why}); userscan will use its TypeScript reader (slower, same results)`);
}
