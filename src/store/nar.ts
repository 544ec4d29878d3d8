import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";

/** A file-system tree as Nix sees it: no owners, no times, only the executable bit. */
export type NarNode =
  | { type: "regular"; executable: boolean; contents: Buffer }
  | { type: "symlink"; target: string }
  | { type: "directory"; entries: Map<string, NarNode> };

const PAD = Buffer.alloc(8);

/** NAR strings: little-endian u64 length, bytes, zero padding to a multiple of 8. */
function writeString(sink: (b: Buffer) => void, s: string | Buffer): void {
  const bytes = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  sink(len);
  if (bytes.length > 0) sink(bytes);
  const pad = (8 - (bytes.length % 8)) % 8;
  if (pad > 0) sink(PAD.subarray(0, pad));
}

/** Nix orders directory entries by their bytes (std::map<std::string>), not by UTF-16 units. */
export function sortedEntries(entries: Map<string, NarNode>): [string, NarNode][] {
  return [...entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function checkEntryName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new CongruentError("E_STORE_IO", `invalid directory entry name "${name}" in a store tree`);
  }
}

function writeNode(sink: (b: Buffer) => void, node: NarNode): void {
  const w = (s: string | Buffer) => writeString(sink, s);
  w("(");
  w("type");
  if (node.type === "regular") {
    w("regular");
    if (node.executable) {
      w("executable");
      w("");
    }
    w("contents");
    w(node.contents);
  } else if (node.type === "symlink") {
    w("symlink");
    w("target");
    w(node.target);
  } else {
    w("directory");
    for (const [name, child] of sortedEntries(node.entries)) {
      checkEntryName(name);
      w("entry");
      w("(");
      w("name");
      w(name);
      w("node");
      writeNode(sink, child);
      w(")");
    }
  }
  w(")");
}

/**
 * Stream the NAR serialisation of `node` into `sink`, chunk by chunk (no big buffer).
 *
 * @example const parts: Buffer[] = []; dumpNar(tree, (b) => parts.push(b));
 */
export function dumpNar(node: NarNode, sink: (chunk: Buffer) => void): void {
  writeString(sink, "nix-archive-1");
  writeNode(sink, node);
}

/** The whole NAR as one buffer, byte for byte what `nix-store --dump` prints. */
export function narBytes(node: NarNode): Buffer {
  const parts: Buffer[] = [];
  dumpNar(node, (b) => parts.push(b));
  return Buffer.concat(parts);
}

/**
 * SHA-256 of the NAR serialisation and its size: what Nix records as narHash/narSize.
 *
 * @example narDigest(tree) // { hash: <32 bytes>, size: 120 }
 */
export function narDigest(node: NarNode): { hash: Buffer; size: number } {
  const h = createHash("sha256");
  let size = 0;
  dumpNar(node, (b) => {
    h.update(b);
    size += b.length;
  });
  return { hash: h.digest(), size };
}

/**
 * SHA-256 of the NAR serialisation, the inner hash of a `nix-store --add` path.
 *
 * @example narHash({ type: "regular", executable: false, contents: Buffer.from("hi\n") }).toString("hex")
 */
export function narHash(node: NarNode): Buffer {
  return narDigest(node).hash;
}

/**
 * Read a file, symlink or directory into a NarNode; symlinks are recorded, not followed.
 *
 * @example readTree("/etc/local/nginx")
 */
export function readTree(fsPath: string): NarNode {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(fsPath);
  } catch (e) {
    throw new CongruentError("E_STORE_IO", `cannot read ${fsPath}: ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) return { type: "symlink", target: fs.readlinkSync(fsPath) };
  // Nix keeps only the owner's execute bit.
  if (st.isFile()) return { type: "regular", executable: (st.mode & 0o100) !== 0, contents: fs.readFileSync(fsPath) };
  if (st.isDirectory()) {
    const entries = new Map<string, NarNode>();
    for (const name of fs.readdirSync(fsPath)) entries.set(name, readTree(path.join(fsPath, name)));
    return { type: "directory", entries };
  }
  throw new CongruentError("E_STORE_IO", `cannot add ${fsPath}: not a regular file, symlink or directory`);
}

/**
 * Create `node` at `dest` (which must not exist), read-only as in a store: files 0444 or
 * 0555, directories 0555 once filled.
 *
 * @example writeTree(tree, "/var/lib/congruent/store/.tmp-x")
 */
export function writeTree(node: NarNode, dest: string): void {
  if (node.type === "regular") {
    fs.writeFileSync(dest, node.contents, { flag: "wx" });
    fs.chmodSync(dest, node.executable ? 0o555 : 0o444);
  } else if (node.type === "symlink") {
    fs.symlinkSync(node.target, dest);
  } else {
    fs.mkdirSync(dest, { mode: 0o755 });
    for (const [name, child] of node.entries) {
      checkEntryName(name);
      writeTree(child, path.join(dest, name));
    }
    fs.chmodSync(dest, 0o555);
  }
}

/**
 * Delete a read-only tree: directories are made writable first, since unlinking needs
 * write permission on the parent. Missing paths are fine.
 *
 * @example removeTree("/var/lib/congruent/store/.tmp-x")
 */
export function removeTree(p: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    fs.chmodSync(p, 0o755);
    for (const name of fs.readdirSync(p)) removeTree(path.join(p, name));
    fs.rmdirSync(p);
  } else {
    fs.unlinkSync(p);
  }
}

/**
 * True if anything is at `p`, a dangling symlink included (fs.existsSync follows links, and
 * a store path may itself be a symlink).
 *
 * @example lexists("/var/lib/congruent/store/…-current") // true even if its target is gone
 */
export function lexists(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}
