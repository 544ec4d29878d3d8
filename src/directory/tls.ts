import { X509Certificate } from "node:crypto";
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import type { Server } from "node:https";
import { createSecureContext } from "node:tls";
import { CongruentError } from "../errors.js";

/** The directory's certificate and key, as `directory serve --tls-cert/--tls-key` name them. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Both files read and checked to belong together (a key that does not match its certificate is refused here, not at the first handshake). */
export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer; summary: string } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(files.cert);
    key = readFileSync(files.key);
  } catch (error) {
    throw new CongruentError("E_USAGE", `--tls-cert/--tls-key: cannot read ${(error as NodeJS.ErrnoException).path ?? ""}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    createSecureContext({ cert, key });
    const x509 = new X509Certificate(cert);
    return { cert, key, summary: `${x509.subject.replace(/\n/g, ", ")}, valid until ${new Date(x509.validTo).toISOString()}, sha256 ${x509.fingerprint256}` };
  } catch (error) {
    throw new CongruentError("E_USAGE", `${files.cert} / ${files.key}: not a certificate and its private key (PEM): ${(error as Error).message}`);
  }
}

/**
 * Serve a renewed certificate without a restart: when either file changes (polled, so a
 * renewal tool that replaces files or symlinks is seen too) or on `reload()` (SIGHUP), the
 * pair is read again and, if it is a valid pair, handed to the server for new connections.
 * A half-written renewal (new certificate, old key) is logged and the current pair kept.
 *
 * @example const watcher = watchTls(app.server, files, log, 5000); process.on("SIGHUP", watcher.reload);
 */
export function watchTls(server: Server, files: TlsFiles, log: { info(msg: string): void; warn(msg: string): void }, pollMs = 5000) {
  const reload = (why: string) => {
    try {
      const { cert, key, summary } = readTls(files);
      server.setSecureContext({ cert, key });
      log.info(`TLS certificate reloaded (${why}): ${summary}`);
    } catch (error) {
      log.warn(`TLS certificate not reloaded (${why}), the current one stays: ${(error as Error).message}`);
    }
  };
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs !== previous.mtimeMs) reload("file changed");
  };
  for (const f of [files.cert, files.key]) watchFile(f, { interval: pollMs, persistent: false }, onChange);
  return {
    reload: () => reload("SIGHUP"),
    stop: () => {
      for (const f of [files.cert, files.key]) unwatchFile(f, onChange);
    },
  };
}

/** Whether `host` (as --listen names it) is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./.test(host);
}
