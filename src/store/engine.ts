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
  /** Delete every path that no root reaches. Never deletes a reachable one. */
  gc(roots: readonly string[]): Promise<{ deleted: string[]; kept: string[] }>;
}
