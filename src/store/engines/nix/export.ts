import { dumpNar, type NarNode } from "../../nar.js";

/** "NIXE" little-endian: marks the metadata after each NAR in `nix-store --export` output. */
const EXPORT_MAGIC = 0x4558494e;

/**
 * The `nix-store --export` serialisation of one path, which `nix-store --import` registers
 * with its references: the one way to record references through the nix-store command.
 *
 * @example nixStoreOk(uri, ["--import"], exportFormat(path, tree, refs))
 */
export function exportFormat(storePath: string, tree: NarNode, references: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  const num = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    parts.push(b);
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s);
    num(bytes.length);
    parts.push(bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
  };
  num(1); // a path follows
  dumpNar(tree, (b) => parts.push(b));
  num(EXPORT_MAGIC);
  str(storePath);
  const refs = [...new Set(references)].sort();
  num(refs.length);
  refs.forEach(str);
  str(""); // no deriver
  num(0); // no legacy signature
  num(0); // no more paths
  return Buffer.concat(parts);
}
