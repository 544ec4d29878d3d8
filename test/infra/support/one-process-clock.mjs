// Preloaded (`node --import`) into an agent started under Debian's faketime: the skewed clock stays
// this one process's. What it starts (nginx -t, a throwaway redis-server) runs on the true clock:
// libfaketime does not work with every program (redis-server's jemalloc recurses into it and hangs).
import process from "node:process";

for (const name of Object.keys(process.env)) if (name === "LD_PRELOAD" || name.startsWith("FAKETIME")) delete process.env[name];
