/**
 * Shell-style globs for --exclude and --unzip, compiled to one RegExp each.
 * A pattern without a slash matches a base name anywhere (`*.whl`, `.cache`); a pattern with a
 * slash matches the whole absolute path (`/home/alice/.cache`, or with `**` for any depth).
 * `*` and `?` stay inside one path component, `**` crosses them, `[abc]` / `[!abc]` are classes.
 *
 * @example globMatcher(["*.whl"])("/home/a/x-1.0-py3-none-any.whl") // true
 */
export function globMatcher(patterns: readonly string[]): (absPath: string) => boolean {
  if (patterns.length === 0) return () => false;
  const split = splitGlobs(patterns);
  const base = split.base.map(globSource);
  const full = split.full.map(globSource);
  const baseRe = base.length ? new RegExp(`^(?:${base.join("|")})$`) : undefined;
  const fullRe = full.length ? new RegExp(`^(?:${full.join("|")})$`) : undefined;
  return (absPath) => {
    if (baseRe) {
      const slash = absPath.lastIndexOf("/");
      if (baseRe.test(absPath.slice(slash + 1))) return true;
    }
    return fullRe ? fullRe.test(absPath) : false;
  };
}

/**
 * Globs matched against the base name (no slash) and against the whole path (a slash; trailing
 * slashes dropped): the two kinds globMatcher compiles, and the native reader matches itself.
 *
 * @example splitGlobs(["*.whl", "/home/a/.cache/"]) // { base: ["*.whl"], full: ["/home/a/.cache"] }
 */
export function splitGlobs(patterns: readonly string[]): { base: string[]; full: string[] } {
  return {
    base: patterns.filter((p) => !p.includes("/")),
    full: patterns.filter((p) => p.includes("/")).map((p) => p.replace(/\/+$/, "")),
  };
}

/** The RegExp source of one glob. */
export function globSource(glob: string): string {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) re += "\\[";
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return re;
}

/** Globs from an --exclude-from file: one a line; blank lines and `#` comments skipped. */
export function parseGlobFile(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}
