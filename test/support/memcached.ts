import net from "node:net";

/** Send one text-protocol command to memcached and read up to `END`/`VERSION …`. */
export function memcachedCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(3000, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (d) => {
      answer += d;
      if (/(^|\r\n)(END|VERSION [^\r]*|STORED|ERROR[^\r]*)\r\n$/.test(answer)) {
        socket.end();
        resolve(answer);
      }
    });
    socket.on("error", reject);
  });
}

/** `stats settings` as a map. */
export async function memcachedSettings(port: number): Promise<Map<string, string>> {
  const text = await memcachedCommand(port, "stats settings");
  return new Map([...text.matchAll(/^STAT (\S+) (.*?)\r$/gm)].map((m) => [m[1]!, m[2]!]));
}
