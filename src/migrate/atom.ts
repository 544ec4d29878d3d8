/**
 * Split a Gentoo package-version (PF) into name and version as PMS defines versions:
 * digits with dots, an optional letter, suffixes (_alpha, _beta, _pre, _rc, _p with an
 * optional number) and an optional revision (-rN). A name may itself contain `-digit`
 * (`font-adobe-100dpi`), so the version is the shortest valid tail.
 *
 * @example splitPf("nginx-1.24.0-r1") // { name: "nginx", version: "1.24.0-r1" }
 */
export function splitPf(pf: string): { name: string; version: string } | undefined {
  const m = /^(.+?)-(\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?)$/.exec(pf);
  return m ? { name: m[1]!, version: m[2]! } : undefined;
}

/** Version without the Gentoo revision: `1.24.0-r1` → `1.24.0`. */
export function upstreamVersion(version: string): string {
  return version.replace(/-r\d+$/, "");
}
