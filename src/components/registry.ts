import type { Component } from "./component.js";
import { nginx } from "./nginx.js";

/**
 * The one place that knows every component and which roles enable them. Core code asks
 * here by name; it never imports a component module.
 */
export const components: ReadonlyMap<string, Component> = new Map([[nginx.name, nginx]]);

/** Roles a host description may list, and the components each enables. */
export const roles: ReadonlyMap<string, readonly string[]> = new Map([["webgateway", ["nginx"]]]);

export function component(name: string): Component | undefined {
  return components.get(name);
}
