import { describe, expect, it } from "vitest";
import type { CongruentError } from "../errors.js";
import { checkName, isValidName, parseStorePath, storePathPattern } from "./name.js";

function nameError(name: string): CongruentError {
  try {
    checkName(name);
  } catch (e) {
    return e as CongruentError;
  }
  throw new Error(`"${name}" was accepted`);
}

describe("store path names", () => {
  it("accepts every allowed character and 211 characters", () => {
    for (const ok of ["nginx-1.22.1", "a+b_c?d=e", "A.Z", "x".repeat(211), "-", "0"]) expect(isValidName(ok)).toBe(true);
  });

  it("rejects empty, too long and leading-dot names", () => {
    expect(nameError("").code).toBe("E_STORE_NAME");
    expect(nameError("x".repeat(212)).message).toMatch(/longer than 211/);
    expect(nameError(".hidden").message).toMatch(/starts with illegal character '\.'/);
  });

  it("names the name and the offending character", () => {
    const e = nameError("a b");
    expect(e.code).toBe("E_STORE_NAME");
    expect(e.message).toBe(`store path name "a b" contains illegal character ' '`);
    for (const bad of ["a/b", "é", "a:b", "a*b", "a@b"]) expect(isValidName(bad)).toBe(false);
  });
});

describe("parsing store paths", () => {
  const p = "/nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d";

  it("splits a store path", () => {
    expect(parseStorePath(p)).toEqual({ storeDir: "/nix/store", hash: "8haldpz8zb6ch8cj0cj8s6dw8kshdns0", name: "d", baseName: "8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d" });
    expect(parseStorePath(p, "/nix/store")?.name).toBe("d");
  });

  it("rejects other dirs, sub-paths and bad hashes", () => {
    expect(parseStorePath(p, "/other/store")).toBeUndefined();
    expect(parseStorePath(`${p}/bin`, "/nix/store")).toBeUndefined();
    expect(parseStorePath("/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-d")).toBeUndefined();
    expect(parseStorePath("/nix/store/8haldpz8zb6ch8cj0cj8s6dw8kshdns0")).toBeUndefined();
  });

  it("finds store paths in text", () => {
    const text = `exec ${p}/bin/nginx -c /nix/store/miacmq2d49l5qm1xgkpr982m3rd9ax08-a;`;
    const found = [...text.matchAll(storePathPattern("/nix/store"))].map((m) => m[1]);
    expect(found).toEqual(["8haldpz8zb6ch8cj0cj8s6dw8kshdns0-d", "miacmq2d49l5qm1xgkpr982m3rd9ax08-a"]);
  });
});
