import { existsSync, lstatSync, mkdirSync } from "node:fs";
import path from "node:path";
import { CongruentError } from "../errors.js";
import { components, roles } from "../components/registry.js";
import { useCacheDir } from "./derived-cache.js";
import { removeAllAbandonedScratch, scratchDir, useScratchRoot } from "./scratch.js";
import type { Component, RenderContext } from "../components/component.js";
import { replaceSymlink } from "../store/atomic.js";
import type { StoreEngine } from "../store/engine.js";
import { removeTree, writeTree, type NarNode } from "../store/nar.js";
import { dir, file, symlink } from "../store/tree.js";
import { enabledComponents, effectiveSettings, parseHost, readHostSource, type HostDescription } from "./host.js";
import { readIntegrationPoint, README_NAME } from "./local.js";
import { COMPONENT_META, SYSTEM_META, type ComponentMeta, type SystemMeta } from "./metadata.js";
import { runtimeDir, configLink, logDir, dataDir } from "./paths.js";

export interface BuildOptions {
  hostFile: string;
  localDir: string;
  stateDir: string;
  store: StoreEngine;
}

export interface BuildResult {
  /** Absolute store path of the system generation. */
  generation: string;
  /** The 32-character hash part of that path. */
  hash: string;
  host: HostDescription;
  /** Component name → store path. */
  components: Record<string, string>;
  /** Files in integration points that are not inputs (wrong name). */
  ignored: string[];
}

/**
 * Build a host's generation: a pure function of the host description, the integration-point
 * files and the identity of each program. Writes only into the store (and links each
 * component's README into its integration point). Validation with the software's own checks
 * happens before a component path is added; a path already in the store passed it before.
 *
 * @example const { generation } = await buildGeneration({ hostFile, localDir, stateDir, store });
 */
export async function buildGeneration(opts: BuildOptions): Promise<BuildResult> {
  // The cache lives only inside an existing state directory (derived-cache.ts): make it now.
  mkdirSync(path.join(opts.stateDir, "cache"), { recursive: true });
  useCacheDir(path.join(opts.stateDir, "cache"));
  // A build killed while it validated (a throwaway server, a copy) left its scratch here.
  useScratchRoot(path.join(opts.stateDir, "tmp"));
  removeAllAbandonedScratch(path.join(opts.stateDir, "tmp"));
  const source = readHostSource(opts.hostFile);
  const host = parseHost(source);
  const paths: Record<string, string> = {};
  const rendered: Rendered[] = [];
  const readmes: string[] = [];
  const readmeTrees: Pending[] = [];
  const ignored: string[] = [];
  for (const name of enabledComponents(host.roles)) {
    const component = components.get(name)!;
    const local = readIntegrationPoint(opts.localDir, component);
    ignored.push(...local.ignored);
    const ctx: RenderContext = {
      hostName: host.name,
      parameters: host.parameters,
      settings: effectiveSettings(host, name),
      local: local.files,
      runtimeDir: runtimeDir(opts.stateDir, name),
      logDir: logDir(opts.stateDir, name),
      configLink: configLink(opts.stateDir, name),
      dataDir: dataDir(opts.stateDir, name),
      roles: host.roles.filter((r) => roles.get(r)?.includes(name)),
      settingSource: (key) => {
        const line = source.lineAt(["settings", name, key]);
        return `${opts.hostFile}${line ? `:${line}` : ""} (settings.${name}.${key})`;
      },
    };
    const r = await renderComponent(component, ctx, opts.store);
    rendered.push(r);
    paths[name] = r.path;
    const readme: Pending = { name: `congruent-readme-${name}`, tree: file(component.integrationPoint.readme) };
    readmeTrees.push(readme);
    readmes.push(opts.store.computePath(readme.name, readme.tree, []));
  }
  const meta: SystemMeta = { host, components: paths };
  const links = Object.fromEntries(Object.entries(paths).map(([n, p]) => [n, symlink(p)]));
  const tree = dir({ [SYSTEM_META]: file(JSON.stringify(meta, null, 2) + "\n"), components: dir(links) });
  const references = [...Object.values(paths), ...readmes].sort();
  let generation = opts.store.computePath(`system-${host.name}`, tree, references);
  // A valid path's references are valid too (both engines keep that): an unchanged host asks
  // the store one question (one nix-store call with the nix engine), and validates nothing.
  if (!opts.store.has(generation)) {
    for (const r of rendered) await storeComponent(r, opts);
    for (const readme of readmeTrees) await opts.store.addTree(readme.name, readme.tree, []);
    generation = await opts.store.addTree(`system-${host.name}`, tree, references);
  }
  linkReadmes(opts.localDir, readmes, Object.keys(paths));
  return { generation, hash: path.basename(generation).slice(0, 32), host, components: paths, ignored };
}

/** A tree to add under a name. */
interface Pending {
  name: string;
  tree: NarNode;
}

/** A component's files and the store path they make, before anything is added. */
interface Rendered extends Pending {
  component: Component;
  ctx: RenderContext;
  path: string;
}

async function renderComponent(component: Component, ctx: RenderContext, store: StoreEngine): Promise<Rendered> {
  const rendered = await component.render(ctx);
  const meta: ComponentMeta = {
    name: component.name,
    settings: rendered.settings ?? Object.fromEntries(Object.entries(ctx.settings).map(([k, value]) => [k, { value, change: component.settings[k]!.change }])),
    inputs: rendered.inputs,
    service: rendered.service,
    program: rendered.program,
  };
  rendered.tree.entries.set(COMPONENT_META, file(JSON.stringify(meta, null, 2) + "\n"));
  const name = `${component.name}-config`;
  return { component, ctx, name, tree: rendered.tree, path: store.computePath(name, rendered.tree, []) };
}

/** Validate a component's files with the software's own checks, then add them; a path already in the store passed before. */
async function storeComponent({ component, ctx, name, tree, path: target }: Rendered, opts: BuildOptions): Promise<void> {
  if (opts.store.has(target)) return;

  // Validate a materialised copy with the same layout before the path may enter the store.
  const scratch = scratchDir(`validate-${component.name}-`);
  try {
    writeTree(tree, path.join(scratch, "out"));
    const errors = await component.validate(ctx, path.join(scratch, "out"));
    if (errors.length > 0) {
      const first = errors[0]!;
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
      throw new CongruentError("E_LOCAL_INVALID", `${first.file}${first.line ? `:${first.line}` : ""}: ${first.message}${more}`);
    }
  } finally {
    removeTree(scratch);
  }
  await opts.store.addTree(name, tree, []);
}

/**
 * Link each component's README into its integration point so customers find the format
 * where they drop files. Only our own link is ever replaced; a customer's README stays.
 */
function linkReadmes(localRoot: string, readmes: string[], names: string[]): void {
  names.forEach((name, i) => {
    const link = path.join(localRoot, name, README_NAME);
    try {
      if (existsSync(link) && !lstatSync(link).isSymbolicLink()) return; // a customer's own file: leave it alone
      replaceSymlink(readmes[i]!, link);
    } catch {
      // A read-only integration point must not fail the build; the README is a courtesy.
    }
  });
}
