import { describe, expect, it } from "vitest";
import { redisQuote, redisWords } from "./redis-config.js";

describe("redis.conf words", () => {
  it("splits as Redis does: blanks, double quotes with escapes, single quotes literal", () => {
    expect(redisWords(`save 900 1`)).toEqual(["save", "900", "1"]);
    expect(redisWords(`notify-keyspace-events ""`)).toEqual(["notify-keyspace-events", ""]);
    expect(redisWords(`rename-command "CONFIG" "x\\ty\\x41"`)).toEqual(["rename-command", "CONFIG", "x\tyA"]);
    expect(redisWords(`logfile 'a b\\n'`)).toEqual(["logfile", "a b\\n"]);
    expect(redisWords(`requirepass "unterminated`)).toBeInstanceOf(Error);
    expect(redisWords(`requirepass "a"b`)).toBeInstanceOf(Error);
  });

  it("quotes a word only when it must, so written back it reads the same", () => {
    for (const w of ["plain", "", "two words", 'say "hi"', "back\\slash", "tab\there", "line\nbreak", "ünïcode"]) {
      const line = `x ${redisQuote(w)}`;
      expect(redisWords(line), line).toEqual(["x", w]);
    }
    expect(redisQuote("allkeys-lru")).toBe("allkeys-lru");
  });
});
