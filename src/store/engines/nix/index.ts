import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CongruentError } from "../../../errors.js";
import type { StoreEngine } from "../../engine.js";
import { readTree, removeTree, writeTree, type NarNode } from "../../nar.js";
import { checkName, parseStorePath } from "../../name.js";
import { sourcePath } from "../../path-hash.js";
import { exportFormat } from "./export.js";
import { nixLocations } from "./locations.js";
import { nixStoreOk, runNixStore } from "./run.js";

/**
 * The store engine for hosts with Nix: every operation is a `nix-store` call, so paths,
 * references, roots and gc are Nix's own. `storeUri` is passed as `--store` (a directory
 * makes a chroot store rooted there); without it, the store `nix-store` itself uses
 * (see {@link nixLocations}).
 *
 * @example const store = new NixStore(); await store.addPath("./site");
 */
export class NixStore implements StoreEngine {
  readonly storeDir: string;
  readonly profilesDir: string;
  /** Nix's state directory: its database, gcroots/ and profiles/. */
  readonly nixStateDir: string;
  private readonly storeUri: string | undefined;

  constructor(opts: { storeUri?: string } = {}) {
    this.storeUri = opts.storeUri;
    const where = nixLocations(opts.storeUri);
    this.storeDir = where.storeDir;
    this.nixStateDir = where.stateDir;
    this.profilesDir = path.join(where.stateDir, "profiles");
  }

  computePath(name: string, tree: NarNode, references: readonly string[]): string {
    return sourcePath(tree, name, references, this.storeDir);
  }

  async addTree(name: string, tree: NarNode, references: readonly string[]): Promise<string> {
    checkName(name);
    const expected = this.computePath(name, tree, references);
    if (this.has(expected)) return expected;
    for (const ref of references) {
      if (!this.has(ref)) throw new CongruentError("E_STORE_MISSING", `cannot add ${name}: reference ${ref} is not a valid path in ${this.storeDir}`);
    }
    // `nix-store --add` cannot record references; `--import` of an export can.
    const added = references.length > 0 ? this.importTree(expected, tree, references) : this.addViaTempDir(name, tree);
    if (added !== expected) throw new CongruentError("E_STORE_IO", `nix-store added ${added}, expected ${expected}`);
    return added;
  }

  async addPath(source: string, opts: { name?: string; references?: readonly string[] } = {}): Promise<string> {
    const name = opts.name ?? path.basename(path.resolve(source));
    if (name !== path.basename(path.resolve(source)) || opts.references?.length) {
      return this.addTree(name, readTree(source), opts.references ?? []);
    }
    checkName(name);
    return nixStoreOk(this.storeUri, ["--add", source]).trim();
  }

  has(p: string): boolean {
    return parseStorePath(p, this.storeDir) !== undefined && runNixStore(this.storeUri, ["--check-validity", p]).status === 0;
  }

  references(p: string): string[] {
    if (!parseStorePath(p, this.storeDir)) throw new CongruentError("E_STORE_MISSING", `${p} is not a path in ${this.storeDir}`);
    return lines(nixStoreOk(this.storeUri, ["--query", "--references", p]));
  }

  closure(paths: readonly string[]): Set<string> {
    return new Set(paths.length ? lines(nixStoreOk(this.storeUri, ["--query", "--requisites", ...paths])) : []);
  }

  list(): string[] {
    // --dump-db prints, per valid path: path, nar hash, nar size, deriver, n, n references.
    const out = nixStoreOk(this.storeUri, ["--dump-db"]).split("\n");
    const paths: string[] = [];
    for (let i = 0; i + 4 < out.length; ) {
      paths.push(out[i] as string);
      i += 5 + Number(out[i + 4]);
    }
    return paths.sort();
  }

  /**
   * Nix's gc knows only its own roots, so `roots` become links in
   * `<nix state>/gcroots/congruent/` (replacing the previous set) before `nix-store --gc`.
   */
  async gc(roots: readonly string[]): Promise<{ deleted: string[]; kept: string[] }> {
    const dir = path.join(this.nixStateDir, "gcroots", "congruent");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const r of roots.filter((r) => parseStorePath(r, this.storeDir))) fs.symlinkSync(r, path.join(dir, path.basename(r)));
    const before = this.list();
    nixStoreOk(this.storeUri, ["--gc"]);
    const after = new Set(this.list());
    return { deleted: before.filter((p) => !after.has(p)), kept: [...after].sort() };
  }

  /** `nix-store --add-root`: Nix writes the link and an indirect root in its gcroots/auto/. */
  async linkRoot(link: string, storePath: string): Promise<void> {
    if (!parseStorePath(storePath, this.storeDir)) throw new CongruentError("E_STORE_MISSING", `${storePath} is not a path in ${this.storeDir}`);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    // A valid path is "realised" already: this only adds the root. An invalid one is not built (no
    // derivation), and Nix says it does not know how.
    nixStoreOk(this.storeUri, ["--realise", storePath, "--add-root", link]);
  }

  private addViaTempDir(name: string, tree: NarNode): string {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "congruent-nix-add-"));
    try {
      writeTree(tree, path.join(tmp, name));
      return nixStoreOk(this.storeUri, ["--add", path.join(tmp, name)]).trim();
    } finally {
      removeTree(tmp);
    }
  }

  private importTree(storePath: string, tree: NarNode, references: readonly string[]): string {
    return nixStoreOk(this.storeUri, ["--import"], exportFormat(storePath, tree, references)).trim();
  }
}

function lines(s: string): string[] {
  return s.split("\n").filter((l) => l !== "");
}
