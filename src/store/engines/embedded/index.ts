import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../../../errors.js";
import type { StoreEngine } from "../../engine.js";
import { lexists, narDigest, narHash, readTree, removeTree, writeTree, type NarNode } from "../../nar.js";
import { checkName, parseStorePath } from "../../name.js";
import { nixBase32Encode } from "../../nix-base32.js";
import { makeStorePath, makeType } from "../../path-hash.js";
import { replaceSymlink } from "../../atomic.js";
import { findRoots, gcrootsDir } from "../../roots.js";
import { infoFile, readInfo, writeInfo, type PathInfo } from "./metadata.js";
import { sweep, sweepAutoRoots } from "./sweep.js";

/**
 * The default store engine: pure TypeScript, no daemon. Paths live in `<state>/store`,
 * their metadata in `<state>/db/info/<basename>.json`.
 *
 * @example
 *   const store = new EmbeddedStore({ stateDir: "/var/lib/congruent" });
 *   await store.addTree("motd", { type: "regular", executable: false, contents: Buffer.from("hi\n") }, []);
 */
export class EmbeddedStore implements StoreEngine {
  readonly storeDir: string;
  readonly profilesDir: string;
  private readonly stateDir: string;
  private readonly infoDir: string;

  constructor(opts: { stateDir: string }) {
    this.stateDir = path.resolve(opts.stateDir);
    this.storeDir = path.join(this.stateDir, "store");
    this.profilesDir = path.join(this.stateDir, "profiles");
    this.infoDir = path.join(this.stateDir, "db", "info");
  }

  computePath(name: string, tree: NarNode, references: readonly string[]): string {
    return makeStorePath(makeType("source", references), narHash(tree).toString("hex"), name, this.storeDir);
  }

  async addTree(name: string, tree: NarNode, references: readonly string[]): Promise<string> {
    checkName(name);
    const { hash, size } = narDigest(tree);
    const final = makeStorePath(makeType("source", references), hash.toString("hex"), name, this.storeDir);
    // Hot path of a no-change switch: the path is there, so its metadata is too.
    if (lexists(final)) return final;
    for (const ref of references) {
      if (!this.has(ref)) throw new CongruentError("E_STORE_MISSING", `cannot add ${name}: reference ${ref} is not a valid path in ${this.storeDir}`);
    }
    const info: PathInfo = {
      path: final,
      narHash: `sha256:${nixBase32Encode(hash)}`,
      narSize: size,
      references: [...new Set(references)].sort(),
      registrationTime: Math.floor(Date.now() / 1000),
    };
    fs.mkdirSync(this.storeDir, { recursive: true });
    // Same parent as the final path: renaming a read-only directory across parents would
    // need write access to it (its ".." changes). The temp name stays short: a 211-char name
    // plus hash is already near NAME_MAX.
    const tmp = path.join(this.storeDir, `.tmp-${randomBytes(8).toString("hex")}`);
    try {
      writeTree(tree, tmp);
      writeInfo(this.infoDir, info);
      fs.renameSync(tmp, final);
    } catch (e) {
      removeTree(tmp);
      // Another process added the same path meanwhile: same contents by construction.
      if (lexists(final)) return final;
      const full = (e as NodeJS.ErrnoException).code === "ENOSPC" ? ` (the file system of ${this.storeDir} is full: free space there, and the next build writes the path again)` : "";
      throw new CongruentError("E_STORE_IO", `cannot add ${final}: ${(e as Error).message}${full}`);
    }
    return final;
  }

  async addPath(source: string, opts: { name?: string; references?: readonly string[] } = {}): Promise<string> {
    return this.addTree(opts.name ?? path.basename(path.resolve(source)), readTree(source), opts.references ?? []);
  }

  has(p: string): boolean {
    return parseStorePath(p, this.storeDir) !== undefined && lexists(p) && fs.existsSync(infoFile(this.infoDir, p));
  }

  /** Everything recorded about a valid path. */
  info(p: string): PathInfo {
    const info = parseStorePath(p, this.storeDir) && lexists(p) ? readInfo(this.infoDir, p) : undefined;
    if (!info) throw new CongruentError("E_STORE_MISSING", `${p} is not a valid path in ${this.storeDir}`);
    return info;
  }

  references(p: string): string[] {
    return this.info(p).references;
  }

  closure(paths: readonly string[]): Set<string> {
    const seen = new Set<string>();
    const todo = [...paths];
    for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
      if (seen.has(p)) continue;
      seen.add(p);
      todo.push(...this.references(p));
    }
    return seen;
  }

  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.storeDir);
    } catch {
      return [];
    }
    return names.map((n) => path.join(this.storeDir, n)).filter((p) => this.has(p)).sort();
  }

  async gc(roots: readonly string[]): Promise<{ deleted: string[]; kept: string[] }> {
    const live = this.closure([...roots, ...findRoots(this.stateDir, this.storeDir)].filter((r) => this.has(r)));
    const deleted: string[] = [];
    const kept: string[] = [];
    for (const p of this.list()) {
      if (live.has(p)) {
        kept.push(p);
        continue;
      }
      // Rename out of the way first so an interrupted delete never leaves a half path that
      // still looks valid; metadata goes only after the path is gone from its name.
      const doomed = path.join(this.storeDir, `.tmp-gc-${randomBytes(8).toString("hex")}`);
      fs.renameSync(p, doomed);
      fs.rmSync(infoFile(this.infoDir, p), { force: true });
      removeTree(doomed);
      deleted.push(p);
    }
    sweep(this.storeDir, this.infoDir, Date.now());
    sweepAutoRoots(path.join(gcrootsDir(this.stateDir), "auto"));
    return { deleted, kept };
  }

  /**
   * A link under `<state>/profiles` or `<state>/gcroots` is a root already; one elsewhere also
   * gets `<state>/gcroots/auto/<sha1 of its path>` pointing at it, as Nix names its indirect
   * roots (gc removes that one once the link is gone).
   */
  async linkRoot(link: string, storePath: string): Promise<void> {
    if (!this.has(storePath)) throw new CongruentError("E_STORE_MISSING", `${storePath} is not a valid path in ${this.storeDir}`);
    const abs = path.resolve(link);
    replaceSymlink(storePath, abs);
    const scanned = [this.profilesDir, gcrootsDir(this.stateDir)].some((d) => abs.startsWith(d + path.sep));
    if (!scanned) replaceSymlink(abs, path.join(gcrootsDir(this.stateDir), "auto", nixBase32Encode(createHash("sha1").update(abs).digest())));
  }
}
