/**
 * What makes two failures the same failure: the error message with what varies from host to
 * host or run to run replaced by placeholders — the reporting host's name and anything shaped
 * like a host name, IP addresses, store hashes and other long hex strings, absolute paths,
 * durations and other numbers. The dashboard groups failures across the fleet by it.
 *
 * @example errorSignature("nginx -t: /etc/local/nginx/shop.conf:12: unknown directive", "web7")
 *          // "nginx -t: <path>:<n>: unknown directive"
 */
export function errorSignature(error: string, host: string): string {
  let s = error.slice(0, 2000).replace(/\b[0-9a-z]{32}-[\w.+-]+/g, "<store>");
  if (host) s = s.split(host).join("<host>");
  return s
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, "<ip>")
    .replace(/(?:^|(?<=[\s"'(=:]))\/[^\s"':,;)]+/g, "<path>")
    .replace(/\b[0-9a-f]{12,}\b/gi, "<hex>")
    .replace(/\b(?=[a-z0-9-]*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)+\.[a-z]{2,}\b/gi, "<host>")
    .replace(/\d+(?:\.\d+)?/g, "<n>")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);
}
