import type { NarNode } from "./nar.js";

/**
 * Builders for in-memory trees that become store paths.
 *
 * @example dir({ "nginx.conf": file("daemon off;\n"), bin: dir({ run: file("#!/bin/sh\n", true) }) })
 */
export function file(contents: string | Buffer, executable = false): NarNode {
  return { type: "regular", executable, contents: typeof contents === "string" ? Buffer.from(contents) : contents };
}

export function symlink(target: string): NarNode {
  return { type: "symlink", target };
}

export function dir(entries: Record<string, NarNode>): NarNode & { type: "directory" } {
  return { type: "directory", entries: new Map(Object.entries(entries)) };
}
