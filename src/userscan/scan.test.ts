import { describe, expect, it } from "vitest";
import { refPattern, scanBuffer, scanString, StreamScanner } from "./scan.js";

const H = "8haldpz8zb6ch8cj0cj8s6dw8kshdns0";
const p = refPattern("/nix/store");

describe("scanString / scanBuffer", () => {
  it("finds a reference in text and stops the name at the first character Nix forbids", () => {
    expect(scanString(p, `PATH=/nix/store/${H}-hello-2.12/bin:/usr/bin`)).toEqual([`${H}-hello-2.12`]);
    expect(scanString(p, `"/nix/store/${H}-a+b_c.d?e=f"`)).toEqual([`${H}-a+b_c.d?e=f`]);
  });

  it("finds several references, NUL-separated as in an ELF string table", () => {
    const other = "0000000000000000000000000000000z";
    const buf = Buffer.from(`\0/nix/store/${H}-glibc-2.37/lib\0/nix/store/${other}-zlib\0`);
    const out = new Set<string>();
    scanBuffer(p, buf, buf.length, true, out);
    expect([...out].sort()).toEqual([`${other}-zlib`, `${H}-glibc-2.37`].sort());
  });

  it.each(["e", "o", "u", "t"])("does not take a hash with '%s' (not Nix base32)", (c) => {
    const bad = c + H.slice(1);
    expect(scanString(p, `/nix/store/${bad}-x`)).toEqual([]);
  });

  it("needs 32 hash characters, a dash and a non-empty name", () => {
    expect(scanString(p, `/nix/store/${H.slice(1)}-x`)).toEqual([]);
    expect(scanString(p, `/nix/store/${H}x`)).toEqual([]);
    expect(scanString(p, `/nix/store/${H}-`)).toEqual([]);
    expect(scanString(p, `/nix/store/${H}-/x`)).toEqual([]);
    expect(scanString(p, `/nix/store/${H.toUpperCase()}-x`)).toEqual([]);
  });

  it("only matches the given store directory", () => {
    expect(scanString(p, `/gnu/store/${H}-x`)).toEqual([]);
    expect(scanString(refPattern("/var/lib/congruent/store/"), `/var/lib/congruent/store/${H}-x`)).toEqual([`${H}-x`]);
  });

  it("cuts a name at 211 characters (Nix's longest)", () => {
    const [ref] = scanString(p, `/nix/store/${H}-${"a".repeat(300)}`);
    expect(ref).toBe(`${H}-${"a".repeat(211)}`);
  });

  it("keeps the last carry bytes unscanned when not final", () => {
    const text = `${"x".repeat(1000)}/nix/store/${H}-tail`;
    const buf = Buffer.from(text);
    const out = new Set<string>();
    const keep = scanBuffer(p, buf, buf.length, false, out);
    expect(out.size).toBe(0);
    expect(keep).toBe(buf.length - p.carry);
    expect(p.carry).toBe("/nix/store/".length + 32 + 1 + 211);
  });
});

describe("StreamScanner", () => {
  const ref = `/nix/store/${H}-split-name-1.0`;
  it.each([1, 5, 11, 12, 20, 44, 45, 50])("finds a reference split after byte %i of it", (cut) => {
    const text = `${"y".repeat(3000)}${ref}\n${"z".repeat(10)}`;
    const at = 3000 + cut;
    const s = new StreamScanner(p);
    s.push(Buffer.from(text.slice(0, at)));
    s.push(Buffer.from(text.slice(at)));
    expect([...s.end()]).toEqual([`${H}-split-name-1.0`]);
  });

  it("does not report a name cut short by the boundary", () => {
    const s = new StreamScanner(p);
    const text = `${"y".repeat(5000)}${ref}`;
    for (let i = 0; i < text.length; i += 7) s.push(Buffer.from(text.slice(i, i + 7)));
    expect([...s.end()]).toEqual([`${H}-split-name-1.0`]);
  });
});
