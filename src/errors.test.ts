import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { errorCodes } from "./errors.js";

describe("error codes", () => {
  it("are each documented in docs/errors.md", () => {
    const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
    for (const code of Object.keys(errorCodes)) expect(doc, code).toContain(`\`${code}\``);
  });
});
