import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";

/** A private CA made for one test, and certificates it signs. */
export interface TestCa {
  /** The CA's certificate (PEM file), what `--ca` takes. */
  caCert: string;
  /** A certificate for 127.0.0.1 and localhost (and `ips`) signed by this CA; `name` tells files apart. */
  issue(name: string, ips?: string[]): { cert: string; key: string };
}

const openssl = (args: string[], cwd: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

/**
 * A throwaway CA in `dir` (EC P-256, one day), with Debian's openssl: nothing is trusted
 * outside the test that made it.
 *
 * @example const ca = makeCa(dir); const { cert, key } = ca.issue("directory");
 */
export function makeCa(dir: string): TestCa {
  const caKey = path.join(dir, "ca.key");
  const caCert = path.join(dir, "ca.crt");
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", caCert, "-days", "1", "-subj", "/CN=congruent test CA"], dir);
  let serial = 1;
  return {
    caCert,
    issue(name, ips = []) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.crt`);
      const ext = path.join(dir, `${name}.ext`);
      writeFileSync(ext, `subjectAltName = ${["127.0.0.1", ...ips].map((ip) => `IP:${ip}`).join(", ")}, DNS:localhost\n`);
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${name}`], dir);
      openssl(["x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-set_serial", String(serial++), "-days", "1", "-extfile", ext, "-out", cert], dir);
      return { cert, key };
    },
  };
}
