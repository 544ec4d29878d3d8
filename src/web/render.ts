import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Eta } from "eta";
import type { FastifyReply, FastifyRequest } from "fastify";
import * as format from "./format.js";
import type { Session } from "./session.js";

/** Templates and static files live beside this module (the build copies them into dist/web/). */
export const WEB_DIR = import.meta.dirname;

/**
 * Eta escapes every `<%= %>` interpolation (autoEscape, its default, kept on): a host name,
 * an error text or a setting an agent sent is text on the page, never markup. `<%~ %>` is used
 * only for the layout body and for partials, which are templates themselves.
 */
export const eta = new Eta({ views: path.join(WEB_DIR, "views"), cache: true, autoEscape: true, autoTrim: [false, "nl"] });

/** Migration colours of a legacy host (see migrationColour). */
export const COLOURS = [
  { name: "green", label: "ready", icon: "✔" },
  { name: "yellow", label: "ready, with items to convert", icon: "◐" },
  { name: "red", label: "blocked", icon: "✖" },
] as const;

export const ROLLOUT: Record<string, { label: string; icon: string; status: string }> = {
  canary: { label: "canaries running it", icon: "◔", status: "deferred" },
  waiting: { label: "waiting for a canary's window", icon: "‖", status: "deferred" },
  halted: { label: "halted", icon: "✖", status: "failed" },
  paused: { label: "paused by an admin", icon: "‖", status: "stale" },
  complete: { label: "complete", icon: "✔", status: "ok" },
};

export const helpers = { ...format, COLOURS, ROLLOUT };

function assetUrl(name: string): string {
  const hash = createHash("sha256").update(readFileSync(path.join(WEB_DIR, "assets", name))).digest("hex").slice(0, 10);
  return `/assets/${name}?v=${hash}`;
}
/** Cache-busting URLs: assets are served immutable, so a new build must change the URL. */
export const assets = { css: assetUrl("app.css"), js: assetUrl("live.js") };

/** A template (a page, or a partial the live updates send) rendered to a string. */
export function renderView(name: string, data: Record<string, unknown>): string {
  return eta.render(name, { h: helpers, assets, ...data });
}

/** Security headers every dashboard page carries; the CSP allows only our own files (no inline script or style). */
export function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "same-origin")
    .header("cache-control", "no-store");
}

export function sendPage(request: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200): FastifyReply {
  const ctx = request.dashboard;
  return pageHeaders(reply).code(status).send(renderView(name, { session: ctx.session, csrf: ctx.csrf(), now: ctx.now, ...data }));
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the dashboard's hook on its routes. */
    dashboard: { session: Session | null; now: Date; csrf: () => string };
  }
}
