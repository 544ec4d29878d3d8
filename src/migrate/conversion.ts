import type { Blocker } from "./types.js";

/** A setting or directive the plan deliberately did not carry over, and why. */
export interface LeftOut {
  component: string;
  key: string;
  value?: string;
  /** `file:line` on the legacy host. */
  from?: string;
  reason: string;
  /**
   * What clients of the new host see differently because of it (a header, content types), when
   * they do: said in the plan, and the behavioural verify will report it.
   */
  visible?: string;
}

/**
 * A path on the legacy host the converted configuration needs on the new one: a file or tree it
 * reads or serves (`copy`, carried over as it is) or a directory it creates things in
 * (`create`: an empty directory is enough, e.g. the parent of a proxy_cache_path).
 */
export interface Requirement {
  path: string;
  kind: "copy" | "create";
  reason: string;
  /** `file:line` of the directive that needs it. */
  from: string;
  bytes: number;
}

/** A secret found in a legacy config: named, located, never copied. */
export interface Secret {
  component: string;
  name: string;
  from: string;
  /** Where it belongs on the new host. */
  carryTo: string;
}

export interface Snippet {
  /** File name inside the integration point, e.g. `shop.example.com.conf`. */
  name: string;
  text: string;
  /** Legacy files (and lines) it was made from. */
  from: string[];
}

/**
 * What one component's legacy configuration becomes: host settings, integration-point
 * snippets, and what stays behind. `legacy` is the comparable part of the legacy
 * configuration (normalised key → value), the yardstick the shadow diff holds the plan to.
 */
export interface Conversion {
  component: string;
  role: string;
  settings: Record<string, number | string | boolean>;
  snippets: Snippet[];
  leftOut: LeftOut[];
  secrets: Secret[];
  legacy: Map<string, string>;
  /** Paths the new host needs for this configuration (beyond the data the inventory found). */
  requires?: Requirement[];
  /** What stops the conversion from behaving the same without a person's decision. */
  blockers?: Blocker[];
}

export const at = (s: { path: string; line: number }) => `${s.path}:${s.line}`;
