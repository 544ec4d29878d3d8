import { tcpRequest } from "./probes.js";

/** Send one text-protocol command to memcached and read up to `END`/`VERSION …` (on this machine). */
export const memcachedCommand = tcpRequest;

/** `stats settings` as a map. */
export async function memcachedSettings(port: number): Promise<Map<string, string>> {
  const text = await memcachedCommand(port, "stats settings");
  return new Map([...text.matchAll(/^STAT (\S+) (.*?)\r$/gm)].map((m) => [m[1]!, m[2]!]));
}
