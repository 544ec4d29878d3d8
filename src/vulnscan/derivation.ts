import fs from "node:fs";
import { CongruentError } from "../errors.js";
import { splitName } from "./version.js";

/** A parsed `.drv` file: Nix's ATerm `Derive(outputs, inputDrvs, inputSrcs, system, builder, args, env)`. */
export interface Derivation {
  outputs: { name: string; path: string; hashAlgo: string; hash: string }[];
  inputDrvs: { path: string; outputs: string[] }[];
  inputSrcs: string[];
  system: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}

type Term = string | Term[];

/**
 * Parse the text of a `.drv` file. Parse only: nothing is evaluated or built.
 *
 * @example parseDerivation('Derive([("out","/nix/store/…-hello-2.12","","")],[],[],"x86_64-linux","/bin/sh",[],[("name","hello-2.12")])').env.name // "hello-2.12"
 */
export function parseDerivation(text: string, file = "<derivation>"): Derivation {
  let i = 0;
  const fail = (what: string): never => {
    throw new CongruentError("E_VULNSCAN_SCAN", `${file}: not a Nix derivation (${what} at offset ${i})`);
  };
  const expect = (s: string) => {
    if (!text.startsWith(s, i)) fail(`expected '${s}'`);
    i += s.length;
  };
  const str = (): string => {
    expect('"');
    let out = "";
    for (;;) {
      const q = text.indexOf('"', i);
      const b = text.indexOf("\\", i);
      if (q < 0) fail("unterminated string");
      if (b < 0 || b > q) {
        out += text.slice(i, q);
        i = q + 1;
        return out;
      }
      out += text.slice(i, b);
      const c = text[b + 1];
      out += c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : (c ?? "");
      i = b + 2;
    }
  };
  const term = (): Term => {
    const c = text[i];
    if (c === '"') return str();
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")";
      i++;
      const items: Term[] = [];
      while (text[i] !== close) {
        if (items.length > 0) expect(",");
        items.push(term());
        if (i >= text.length) fail("unexpected end");
      }
      i++;
      return items;
    }
    return fail("unexpected character");
  };
  const asList = (t: Term | undefined): Term[] => (Array.isArray(t) ? t : fail("expected a list"));
  const asStr = (t: Term | undefined): string => (typeof t === "string" ? t : fail("expected a string"));

  expect("Derive(");
  const fields: Term[] = [];
  while (text[i] !== ")") {
    if (fields.length > 0) expect(",");
    fields.push(term());
    if (i >= text.length) fail("unexpected end");
  }
  if (fields.length !== 7) fail(`expected 7 fields, found ${fields.length}`);
  const [outs, drvs, srcs, system, builder, args, env] = fields;
  return {
    outputs: asList(outs).map((o) => {
      const [name, path, hashAlgo, hash] = asList(o).map(asStr);
      return { name: name ?? "", path: path ?? "", hashAlgo: hashAlgo ?? "", hash: hash ?? "" };
    }),
    inputDrvs: asList(drvs).map((d) => {
      const [path, outputs] = asList(d);
      return { path: asStr(path), outputs: asList(outputs).map(asStr) };
    }),
    inputSrcs: asList(srcs).map(asStr),
    system: asStr(system),
    builder: asStr(builder),
    args: asList(args).map(asStr),
    env: Object.fromEntries(asList(env).map((kv) => asList(kv).map(asStr) as [string, string])),
  };
}

/** What the scanner needs from a derivation. */
export interface DerivationInfo {
  name: string;
  pname: string;
  version: string;
  /** CVE ids named by the derivation's patches (`CVE-2014-0160.patch`): fixed, not reported. */
  patched: string[];
  /** The `out` output's store path. */
  outPath?: string;
}

const CVE_RE = /CVE-\d{4}-\d{4,}/gi;

/**
 * Name, pname, version (from `env.pname`/`env.version` when set, else split from `env.name`)
 * and the CVE ids in patch file names (`patches`, also inside `__json` structured attrs).
 *
 * @example derivationInfo(parseDerivation(text)) // { name: "openssl-1.0.1f", pname: "openssl", version: "1.0.1f", patched: ["CVE-2014-0160"] }
 */
export function derivationInfo(drv: Derivation): DerivationInfo {
  let env: Record<string, unknown> = drv.env;
  if (drv.env.__json !== undefined) {
    try {
      env = { ...drv.env, ...(JSON.parse(drv.env.__json) as Record<string, unknown>) };
    } catch {
      // A broken __json leaves the plain attributes; parsing must never stop a scan.
    }
  }
  const name = typeof env.name === "string" ? env.name : "";
  const split = splitName(name);
  const patches = Array.isArray(env.patches) ? env.patches.map(String) : typeof env.patches === "string" ? env.patches.split(/\s+/) : [];
  const patched = new Set<string>();
  for (const p of patches) {
    const base = p.slice(p.lastIndexOf("/") + 1);
    for (const m of base.matchAll(CVE_RE)) patched.add(m[0].toUpperCase());
  }
  const outPath = drv.outputs.find((o) => o.name === "out")?.path;
  return {
    ...(outPath ? { outPath } : {}),
    name,
    pname: typeof env.pname === "string" && env.pname !== "" ? env.pname : split.pname,
    version: typeof env.version === "string" && env.version !== "" ? env.version : split.version,
    patched: [...patched].sort(),
  };
}

/** Read and parse a `.drv` file. */
export function readDerivation(file: string): DerivationInfo {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CongruentError("E_VULNSCAN_SCAN", `cannot read derivation ${file}: ${(e as Error).message}`);
  }
  return derivationInfo(parseDerivation(text, file));
}
