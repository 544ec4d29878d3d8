import type { Component } from "./component.js";
import { nginx } from "./nginx/index.js";
import { postgresql } from "./postgresql.js";
import { redis } from "./redis/index.js";
import { memcached } from "./memcached.js";

/**
 * The one place that knows every component and which roles enable them. Core code asks
 * here by name; it never imports a component module.
 */
export const components: ReadonlyMap<string, Component> = new Map([
  [nginx.name, nginx],
  [postgresql.name, postgresql],
  [redis.name, redis],
  [memcached.name, memcached],
]);

/** Roles a host description may list, and the components each enables. */
export const roles: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ["webgateway", ["nginx"]],
  // One PostgreSQL per host; the role names the intended major, the installed server runs.
  ...["13", "14", "15", "16", "17"].map((major): [string, string[]] => [`postgresql${major}`, ["postgresql"]]),
  ["redis", ["redis"]],
  ["memcached", ["memcached"]],
]);

export function component(name: string): Component | undefined {
  return components.get(name);
}
