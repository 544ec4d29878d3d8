/**
 * What the host schema finds wrong with a value: where (a path of keys and indexes from the
 * value checked) and what is allowed there. The host file turns the path into a line, the
 * directory into the `field` of its 400, the CLI into a line of the file it read.
 *
 * @example describeIssue({ path: ["settings", "nginx", "worker_processes"], message: "999 is above the maximum 64" })
 *          // "settings.nginx.worker_processes: 999 is above the maximum 64"
 */
export type IssuePath = (string | number)[];

export interface Issue {
  path: IssuePath;
  message: string;
}

export const issuePath = (path: IssuePath): string => path.join(".");

export const describeIssue = (issue: Issue): string => (issue.path.length ? `${issuePath(issue.path)}: ${issue.message}` : issue.message);

/** The same issues, found in a value that sits at `prefix` of a larger one. */
export const under = (prefix: IssuePath, issues: Issue[]): Issue[] => issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message }));

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
