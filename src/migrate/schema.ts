import { findNodeAtLocation, parseTree } from "jsonc-parser";
import { z } from "zod";
import { CongruentError } from "../errors.js";
import { parseJson } from "../generation/json-source.js";
import type { Inventory } from "./types.js";

// The parts of an inventory that plan and report read; facts they only pass through stay loose.
const setting = z.object({ name: z.string(), value: z.string(), path: z.string(), line: z.number() });
const nginxNode: z.ZodType<unknown> = z.lazy(() =>
  z.object({ name: z.string(), args: z.array(z.string()), path: z.string(), line: z.number(), block: z.array(nginxNode).optional() }),
);
const pkg = z.looseObject({ atom: z.string(), category: z.string(), name: z.string(), version: z.string(), slot: z.string(), use: z.array(z.string()), selected: z.boolean() });
const verdict = z.enum(["congruent", "convergent", "divergent"]);

/** The inventory file's schema: what `migrate inventory` writes and `plan`/`report` accept. */
export const inventorySchema = z.object({
  format: z.literal("congruent-migrate-inventory/1"),
  host: z.string().min(1),
  root: z.string(),
  generatedAt: z.string(),
  facts: z.looseObject({
    packages: z.array(pkg),
    services: z.array(z.looseObject({ name: z.string(), runlevel: z.string() })),
    configs: z.array(z.looseObject({ path: z.string(), state: z.string() })),
    users: z.array(z.looseObject({ name: z.string(), home: z.string(), homeBytes: z.number(), software: z.array(z.looseObject({ path: z.string(), linksTo: z.string() })) })),
    data: z.array(z.looseObject({ path: z.string(), kind: z.string(), bytes: z.number(), owner: z.string() })),
    nginx: z
      .object({ main: z.string().nullable(), files: z.array(z.string()), main_directives: z.array(nginxNode), events: z.array(nginxNode), http: z.array(nginxNode), servers: z.array(nginxNode) })
      .nullable(),
    postgresql: z.object({ major: z.string(), configFile: z.string().nullable(), dataDir: z.string().nullable(), settings: z.array(setting) }).nullable(),
    redis: z.object({ configFile: z.string().nullable(), directives: z.array(setting) }).nullable(),
    memcached: z.object({ confd: z.string().nullable(), variables: z.record(z.string(), z.string()) }).nullable(),
  }),
  items: z.array(z.looseObject({ kind: z.string(), id: z.string(), class: verdict, reason: z.string() })),
  blockers: z.array(z.looseObject({ kind: z.string(), subject: z.string(), detail: z.string() })),
  summary: z.looseObject({ items: z.number(), congruent: z.number(), convergent: z.number(), divergent: z.number(), dataBytes: z.number(), blockers: z.number(), ready: z.boolean() }),
  problems: z.array(z.looseObject({ path: z.string(), message: z.string() })),
});

/**
 * Parse and check an inventory file; an error names the file, the line and the field.
 *
 * @example const inv = parseInventory(readFileSync(f, "utf8"), f);
 */
export function parseInventory(text: string, file: string): Inventory {
  const doc = parseJson(file, text, "E_MIGRATE_INVENTORY");
  const result = inventorySchema.safeParse(doc.value);
  if (result.success) return doc.value as Inventory;
  const issue = result.error.issues[0]!;
  const where = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
  const node = findNodeAtLocation(parseTree(text)!, issue.path as (string | number)[]);
  const line = node ? text.slice(0, node.offset).split("\n").length : undefined;
  throw new CongruentError("E_MIGRATE_INVENTORY", `${file}${line ? `:${line}` : ""}: not a migrate inventory: ${where || "(top)"}: ${issue.message}`);
}
