import { createHash } from "node:crypto";
import { checkName } from "./name.js";
import { narHash, type NarNode } from "./nar.js";
import { nixBase32Encode } from "./nix-base32.js";

/**
 * XOR-fold a hash into `size` bytes, as Nix's compressHash does (byte i goes to i mod size).
 *
 * @example compressHash(sha256Digest, 20).length // 20
 */
export function compressHash(hash: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < hash.length; i++) out[i % size] = (out[i % size] as number) ^ (hash[i] as number);
  return out;
}

/**
 * Nix's makeStorePath: sha256 of `<type>:sha256:<inner hex>:<storeDir>:<name>`, folded to
 * 20 bytes, in Nix base32.
 *
 * @example makeStorePath("source", narHex, "d", "/nix/store") // "/nix/store/8hal…-d"
 */
export function makeStorePath(type: string, innerHashHex: string, name: string, storeDir: string): string {
  checkName(name);
  const fingerprint = `${type}:sha256:${innerHashHex}:${storeDir}:${name}`;
  const digest = createHash("sha256").update(fingerprint).digest();
  return `${storeDir}/${nixBase32Encode(compressHash(digest, 20))}-${name}`;
}

/**
 * Nix's makeType: `base` followed by `:<path>` for each reference in store-path order,
 * then `:self` for a path that refers to itself.
 *
 * @example makeType("source", ["/nix/store/b…-y", "/nix/store/a…-x"]) // "source:/nix/store/a…-x:/nix/store/b…-y"
 */
export function makeType(base: "source" | "text", references: readonly string[], selfReference = false): string {
  // Nix's StorePathSet orders by base name; with one store dir that is the full path's order.
  const sorted = [...new Set(references)].sort();
  return [base, ...sorted, ...(selfReference ? ["self"] : [])].join(":");
}

/**
 * The path `nix-store --add` gives a tree (recursive ingestion, sha256 of the NAR), with
 * optional references as Nix's addToStore records them.
 *
 * @example sourcePath(readTree("./d"), "d", [], "/nix/store")
 */
export function sourcePath(tree: NarNode, name: string, references: readonly string[], storeDir: string): string {
  return makeStorePath(makeType("source", references), narHash(tree).toString("hex"), name, storeDir);
}

/**
 * The path of a text file added as Nix's builtins.toFile / addTextToStore does (flat sha256 of
 * the contents, type "text").
 *
 * @example textPath("hello\n", "greeting", [], "/nix/store")
 */
export function textPath(contents: string | Buffer, name: string, references: readonly string[], storeDir: string): string {
  const hex = createHash("sha256").update(contents).digest("hex");
  return makeStorePath(makeType("text", references), hex, name, storeDir);
}
