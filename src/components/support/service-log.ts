import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";

/**
 * The last line the service wrote to its supervisor log (`<logDir>/current`, s6-log's file with
 * its timestamp removed), for health-check messages: a refused connection says little, the
 * server's own last word ("failed to listen on TCP port 11211: Address already in use") says why.
 * Undefined when there is no log yet.
 *
 * @example lastLogLine("/var/lib/congruent/log/memcached") // "failed to listen on TCP port 11211: Address already in use"
 */
export function lastLogLine(logDir: string, match: (line: string) => boolean = () => true): string | undefined {
  let fd: number;
  try {
    fd = openSync(path.join(logDir, "current"), "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 8192);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString("utf8")
      .split("\n")
      .map((l) => l.replace(/^\d{4}-\d\d-\d\d[ T][\d:.]+\s+/, "").trim())
      .filter((l) => l !== "" && match(l));
    return lines.at(-1);
  } finally {
    closeSync(fd);
  }
}
