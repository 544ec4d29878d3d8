/** A setting or directive the plan deliberately did not carry over, and why. */
export interface LeftOut {
  component: string;
  key: string;
  value?: string;
  /** `file:line` on the legacy host. */
  from?: string;
  reason: string;
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
}

export const at = (s: { path: string; line: number }) => `${s.path}:${s.line}`;
