import fs from "node:fs";

/** One thing the walk found that may hold references. */
export type WalkEntry = { kind: "file"; path: string } | { kind: "symlink"; path: string; target: string; uid: number };

/** What the walk learnt besides its entries; roots.ts uses it to decide which links are stale. */
export interface WalkState {
  /** Directories read completely (every entry seen). */
  walked: Set<string>;
  /** Directories not looked into on purpose: excluded, or on another filesystem. */
  skipped: Set<string>;
  /** Paths that could not be read, with the reason. */
  unreadable: { path: string; error: string }[];
}

export interface WalkOptions {
  /** Absolute paths to start from. */
  paths: readonly string[];
  excluded: (absPath: string) => boolean;
}

/**
 * Walk every tree depth-first, lazily: hidden entries included; a directory on another
 * filesystem than its tree's start (st_dev) is not entered; a symlink is never followed,
 * its own target string is yielded instead. Regular files are yielded by path only: the
 * reader stats them itself, in parallel. Sockets, fifos and devices are ignored.
 *
 * @example const state = newWalkState(); for (const e of walk({ paths: ["/home"], excluded: () => false }, state)) …
 */
export function* walk(options: WalkOptions, state: WalkState): Generator<WalkEntry> {
  for (const start of options.paths) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(start);
    } catch (error) {
      state.unreadable.push({ path: start, error: reason(error) });
      continue;
    }
    if (st.isSymbolicLink()) {
      const link = symlink(start, st.uid, state);
      if (link) yield link;
    } else if (st.isFile()) yield { kind: "file", path: start };
    else if (st.isDirectory()) yield* walkDir(start, st.dev, options, state);
  }
}

function* walkDir(root: string, dev: number, options: WalkOptions, state: WalkState): Generator<WalkEntry> {
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      state.unreadable.push({ path: dir, error: reason(error) });
      continue;
    }
    state.walked.add(dir);
    const subdirs: string[] = [];
    for (const e of entries) {
      const p = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
      if (options.excluded(p)) {
        state.skipped.add(p);
        continue;
      }
      if (e.isFile()) yield { kind: "file", path: p };
      else if (e.isDirectory()) subdirs.push(p);
      else if (e.isSymbolicLink()) {
        const link = symlink(p, undefined, state);
        if (link) yield link;
      } else if (e.isBlockDevice() || e.isCharacterDevice() || e.isFIFO() || e.isSocket()) continue;
      else {
        // DT_UNKNOWN (some filesystems): ask lstat.
        const st = lstat(p, state);
        if (st?.isFile()) yield { kind: "file", path: p };
        else if (st?.isDirectory()) subdirs.push(p);
        else if (st?.isSymbolicLink()) {
          const link = symlink(p, st.uid, state);
          if (link) yield link;
        }
      }
    }
    // Only directories need a stat: it is the mount-point check.
    for (let i = subdirs.length - 1; i >= 0; i--) {
      const sub = subdirs[i] as string;
      const st = lstat(sub, state);
      if (!st) continue;
      if (st.dev !== dev) state.skipped.add(sub);
      else stack.push(sub);
    }
  }
}

function symlink(p: string, uid: number | undefined, state: WalkState): WalkEntry | undefined {
  try {
    const target = fs.readlinkSync(p);
    return { kind: "symlink", path: p, target, uid: uid ?? fs.lstatSync(p).uid };
  } catch (error) {
    state.unreadable.push({ path: p, error: reason(error) });
    return undefined;
  }
}

function lstat(p: string, state: WalkState): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (error) {
    // Vanished between readdir and lstat: nothing to scan, nothing unreadable.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") state.unreadable.push({ path: p, error: reason(error) });
    return undefined;
  }
}

export function newWalkState(): WalkState {
  return { walked: new Set(), skipped: new Set(), unreadable: [] };
}

/** `ENOENT: no such file…` → the code and message, one line. */
export function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, "").split(",")[0]}` : String(e?.message ?? e);
}
