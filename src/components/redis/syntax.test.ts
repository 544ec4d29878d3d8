import { describe, expect, it } from "vitest";
import { quoteArg, splitArgs } from "./syntax.js";

describe("redis.conf words (one tokenizer for the component and migrate)", () => {
  it("splits as Redis does: blanks, double quotes with escapes, single quotes with \\' only", () => {
    expect(splitArgs(`save 900 1`)).toEqual(["save", "900", "1"]);
    expect(splitArgs(`notify-keyspace-events ""`)).toEqual(["notify-keyspace-events", ""]);
    expect(splitArgs(`rename-command "CONFIG" "x\\ty\\x41"`)).toEqual(["rename-command", "CONFIG", "x\tyA"]);
    expect(splitArgs(`logfile 'a b\\n'`)).toEqual(["logfile", "a b\\n"]);
    // Class 11: redis-server accepts an escaped single quote inside single quotes.
    expect(splitArgs(`masteruser 'it\\'s'`)).toEqual(["masteruser", "it's"]);
    expect(splitArgs(`requirepass "unterminated`)).toBeUndefined();
    expect(splitArgs(`requirepass "a"b`)).toBeUndefined();
  });

  it("quotes a word only when it must, so written back it reads the same", () => {
    for (const w of ["plain", "", "two words", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "ünïcode", "it's", "bell\x07"]) {
      const line = `x ${quoteArg(w)}`;
      expect(splitArgs(line), line).toEqual(["x", w]);
    }
    expect(quoteArg("allkeys-lru")).toBe("allkeys-lru");
  });
});
