import { describe, expect, it } from "vitest";
import { derivationInfo, parseDerivation } from "./derivation.js";

const drv = String.raw`Derive([("out","/nix/store/6q8b1dq0sbsnyc4apn1wnq5alvl5v1rw-openssl-3.0.6","",""),("dev","/nix/store/1s2yhvfd5cnqdxcfj8rpn0yfynrvma8b-openssl-3.0.6-dev","","")],[("/nix/store/0k2bxcsy3r0xqsp3gpx4wd8a3s9qpi3p-perl-5.36.0.drv",["out"])],["/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh","/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-CVE-2022-3602.patch"],"x86_64-linux","/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-bash-5.2/bin/bash",["-e","/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh"],[("builder","/bin/bash"),("configureFlags","--with \"quotes\"\nand\\backslash"),("name","openssl-3.0.6"),("outputs","out dev"),("patches","/nix/store/cccccccccccccccccccccccccccccccc-nix-ssl-cert-file.patch /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-CVE-2022-3602.patch\n/nix/store/dddddddddddddddddddddddddddddddd-cve-2022-3786.patch"),("pname","openssl"),("version","3.0.6")])`;

describe("derivations", () => {
  it("parses the ATerm of a .drv, escapes included", () => {
    const d = parseDerivation(drv);
    expect(d.outputs.map((o) => o.name)).toEqual(["out", "dev"]);
    expect(d.inputDrvs[0]).toEqual({ path: "/nix/store/0k2bxcsy3r0xqsp3gpx4wd8a3s9qpi3p-perl-5.36.0.drv", outputs: ["out"] });
    expect(d.system).toBe("x86_64-linux");
    expect(d.env.configureFlags).toBe('--with "quotes"\nand\\backslash');
  });

  it("takes pname, version and patched CVEs from the environment", () => {
    expect(derivationInfo(parseDerivation(drv))).toEqual({
      outPath: "/nix/store/6q8b1dq0sbsnyc4apn1wnq5alvl5v1rw-openssl-3.0.6",
      name: "openssl-3.0.6",
      pname: "openssl",
      version: "3.0.6",
      patched: ["CVE-2022-3602", "CVE-2022-3786"],
    });
  });

  it("splits name when pname/version are absent, and reads structured attrs", () => {
    const json = JSON.stringify({ name: "xz-5.6.0", patches: ["/nix/store/x-CVE-2024-3094.patch"] }).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
    const d = parseDerivation(`Derive([("out","/nix/store/e-xz-5.6.0","","")],[],[],"x86_64-linux","/bin/sh",[],[("__json","${json}"),("name","xz-5.6.0")])`);
    expect(derivationInfo(d)).toMatchObject({ pname: "xz", version: "5.6.0", patched: ["CVE-2024-3094"] });
  });

  it("rejects what is not a derivation, naming the file", () => {
    expect(() => parseDerivation("{}", "/x.drv")).toThrow(/\/x\.drv: not a Nix derivation/);
    expect(() => parseDerivation('Derive([("out"', "/y.drv")).toThrow(/\/y\.drv/);
  });
});
