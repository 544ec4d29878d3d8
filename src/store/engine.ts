import type { NarNode } from "./nar.js";

/**
 * The contract every store engine keeps. Paths are absolute store paths
 * (`<storeDir>/<32 chars>-<name>`), computed exactly as Nix computes them.
 *
 * @example
 *   const p = await store.addTree("nginx", tree, [otherPath]);
 *   store.references(p); // [otherPath]
 */
export interface StoreEngine {
  readonly storeDir: string;
  /** The path `tree` would get, without writing anything. */
  computePath(name: string, tree: NarNode, references: readonly string[]): string;
  /** Add an in-memory tree (atomic: temp dir + rename). Returns the store path; a no-op if present. */
  addTree(name: string, tree: NarNode, references: readonly string[]): Promise<string>;
  /** Add a file or directory from the file system, like `nix-store --add`. */
  addPath(source: string, opts?: { name?: string; references?: readonly string[] }): Promise<string>;
  has(path: string): boolean;
  /** References recorded at add time. */
  references(path: string): string[];
  /** Every path reachable from `paths` (including them) through recorded references. */
  closure(paths: readonly string[]): Set<string>;
  /** Every valid path in the store. */
  list(): string[];
  /**
   * Delete every path that neither `roots` nor the store's own roots reach (links under its
   * gcroots, every profile generation, roots made by {@link linkRoot}). Never deletes a reachable one.
   */
  gc(roots: readonly string[]): Promise<{ deleted: string[]; kept: string[] }>;
  /**
   * Where this engine's profiles live, in Nix's layout (`<dir>/system`,
   * `<dir>/per-user/<user>/profile`); its gc keeps every generation under it.
   */
  readonly profilesDir: string;
  /**
   * Point `link` at `storePath` (atomically) and make it a gc root wherever it is, for as long
   * as it exists, like `nix-store --add-root`: a generation link outside {@link profilesDir}
   * keeps its path too. Throws E_STORE_MISSING if `storePath` is not valid.
   */
  linkRoot(link: string, storePath: string): Promise<void>;
}
