import { describe, expect, it } from "vitest";
import { isNixBase32, nixBase32Decode, nixBase32Encode } from "./nix-base32.js";

// Vectors from `nix-hash --to-base32` (Nix 2.8).
const vectors: [string, string][] = [
  ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"],
  ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"],
  ["0000000000000000000000000000000000000001", "04000000000000000000000000000000"],
  ["ff00000000000000000000000000000000000000", "0000000000000000000000000000007z"],
  ["00112233445566778899aabbccddeeff", "7zxvfwrfxak647frjm8hrj4480"],
];

describe("nix base32", () => {
  it.each(vectors)("encodes %s", (hex, b32) => {
    expect(nixBase32Encode(Buffer.from(hex, "hex"))).toBe(b32);
  });

  it.each(vectors)("decodes back to %s", (hex, b32) => {
    expect(nixBase32Decode(b32).toString("hex")).toBe(hex);
  });

  it("round-trips random bytes of every length", () => {
    for (let len = 0; len < 40; len++) {
      const bytes = Buffer.from(Array.from({ length: len }, (_, i) => (i * 73 + len * 31) & 0xff));
      expect(nixBase32Decode(nixBase32Encode(bytes))).toEqual(bytes);
    }
  });

  it("rejects characters outside the alphabet and overflowing bits", () => {
    expect(isNixBase32("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73")).toBe(true);
    expect(isNixBase32("e0000000000000000000000000000000")).toBe(false);
    expect(() => nixBase32Decode("u0000000000000000000000000000000")).toThrow(/invalid character 'u'/);
    // 32 chars hold 160 bits exactly; 52 chars hold 260 bits for 256: the top 4 must be zero.
    expect(isNixBase32("z" + "0".repeat(51))).toBe(false);
    expect(isNixBase32("1" + "0".repeat(51))).toBe(true);
  });
});
