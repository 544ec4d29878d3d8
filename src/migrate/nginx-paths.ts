import path from "node:path";
import { absolutePath, CREATES_DIR, DEFAULT_ROOT, PATH_DIRECTIVES } from "../components/nginx/paths.js";
import { PLATFORM_HTTP } from "../components/nginx/platform.js";
import { unquote, type NginxNode } from "../components/nginx/syntax.js";
import { GENTOO_NGINX_BASES } from "./gentoo-nginx.js";
import type { LegacyRoot } from "./legacy-root.js";
import type { NginxPathFact } from "./types.js";
import { packageOwningTree, type OwnedFile } from "./vdb.js";

// Log files and the platform's temp paths are left out of the plan: nothing to carry for them.
const NOT_CARRIED = new Set(["access_log", "error_log", "include", "pid", "lock_file", "working_directory", "load_module"]);

/**
 * A directive's path as the legacy nginx resolves it: relative to Gentoo's prefix (or nginx.conf's
 * directory), with the server's constant `set $var value;` substituted (`root $public;`).
 * Undefined when it names no file or depends on the request.
 */
export function legacyPath(node: NginxNode, vars: ReadonlyMap<string, string> = new Map()): string | undefined {
  let value = unquote(node.args[0] ?? "");
  value = value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => vars.get(name) ?? all);
  if (value === "" || value.includes("$")) return undefined;
  return absolutePath(node.name, value, GENTOO_NGINX_BASES) ?? (value.startsWith("/") ? path.posix.normalize(value) : undefined);
}

/** `set $name value;` with a constant value, as a server block's variables for legacyPath. */
export function constantVars(block: NginxNode[], outer: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const vars = new Map(outer);
  for (const d of block) {
    if (d.name !== "set" || d.args.length !== 2) continue;
    const value = unquote(d.args[1]!);
    if (!value.includes("$")) vars.set(unquote(d.args[0]!).replace(/^\$/, ""), value);
  }
  return vars;
}

// What nginx's worker processes read (as the worker user), not the master (as root): served
// content and password files. Certificates and keys are read by the master.
const WORKERS_READ = new Set(["root", "alias", "root (nginx's default)", "auth_basic_user_file"]);

/**
 * Every file and directory the legacy configuration names that the new host needs too: what
 * it reads (certificates, keys, password files), serves (roots and aliases, nginx's default
 * `html` included where a server sets none), and creates its caches in. Read below the root,
 * with symlinks and the owning package, so `migrate plan` can carry them over from the inventory alone.
 */
export function readNginxPaths(root: LegacyRoot, http: NginxNode[], servers: NginxNode[], owned: Map<string, OwnedFile>, worker?: { uid: number; gid: number }): NginxPathFact[] {
  const found = new Map<string, NginxPathFact>();
  const note = (p: string, directive: string, from: string) => {
    if (found.has(p)) return;
    const { links, target } = root.chain(p);
    const type = root.isDir(target) ? "dir" : root.isFile(target) ? "file" : root.exists(target) ? "other" : "missing";
    const fact: NginxPathFact = { path: p, directive, from, type, links, target, bytes: type === "dir" ? root.usage(target).bytes : type === "file" ? root.size(target) : 0 };
    const pkg = type === "file" ? owned.get(target)?.atom : type === "dir" ? packageOwningTree(root, target, owned) : undefined;
    if (pkg) fact.package = pkg;
    if (worker && WORKERS_READ.has(directive) && (type === "dir" || type === "file")) {
      const hidden = root.privateTo(target, worker);
      if (hidden.count) fact.private = hidden;
    }
    found.set(p, fact);
  };
  const walk = (nodes: NginxNode[], vars: Map<string, string>, level: "http" | "block") => {
    const scoped = constantVars(nodes, vars);
    for (const n of nodes) {
      if (n.block) {
        if (n.name === "location" || n.name === "if") walk(n.block, scoped, "block");
        continue;
      }
      if (!PATH_DIRECTIVES.has(n.name) || NOT_CARRIED.has(n.name)) continue;
      if (level === "http" && n.name in PLATFORM_HTTP) continue; // the platform's temp paths
      const p = legacyPath(n, scoped);
      if (p) note(p, CREATES_DIR.has(n.name) ? `${n.name} (nginx creates it)` : n.name, `${n.path}:${n.line}`);
    }
  };
  const httpVars = constantVars(http);
  walk(http, httpVars, "http");
  const httpRoot = http.some((n) => n.name === "root");
  for (const s of servers) {
    walk(s.block ?? [], httpVars, "block");
    // A server without a root anywhere above it serves nginx's default `html`, relative to the prefix.
    if (!httpRoot && !(s.block ?? []).some((n) => n.name === "root")) note(absolutePath("root", DEFAULT_ROOT, GENTOO_NGINX_BASES)!, "root (nginx's default)", `${s.path}:${s.line}`);
  }
  return [...found.values()];
}
