import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import type { Component, LocalFile } from "../components/component.js";

/** The file the build links into every integration point; never an input. */
export const README_NAME = "README.txt";

/**
 * Read the files of one integration point, `<local>/<component>/`, without changing them.
 * A file that escapes the directory through a symlink, or cannot be read, is an error that
 * names it: a build must never silently drop a customer's file.
 *
 * @example readIntegrationPoint("/etc/local", nginx) // [{ name: "shop.conf", path, contents }]
 */
export function readIntegrationPoint(localRoot: string, component: Component): { files: LocalFile[]; ignored: string[] } {
  const dir = path.join(localRoot, component.name);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: [], ignored: [] };
    throw new CongruentError("E_LOCAL_INVALID", `${dir}: cannot read integration point: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const realDir = realpathSync(dir);
  const files: LocalFile[] = [];
  const ignored: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name === README_NAME || !component.integrationPoint.accepts(name)) {
      if (name !== README_NAME) ignored.push(file);
      continue;
    }
    const fail = (why: string): never => {
      throw new CongruentError("E_LOCAL_INVALID", `${file}: ${why}`);
    };
    try {
      if (lstatSync(file).isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(file);
        } catch {
          return fail("symlink to a file that does not exist");
        }
        if (!target.startsWith(realDir + path.sep)) fail(`symlink points out of the integration point (to ${target})`);
      }
      if (!statSync(file).isFile()) fail("not a regular file");
      files.push({ name, path: file, contents: readFileSync(file) });
    } catch (error) {
      if (error instanceof CongruentError) throw error;
      fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  return { files, ignored };
}
