/**
 * The hostname a request is for, lowercased, without port or trailing dot. Returns undefined
 * for anything that cannot be a DNS name, so it never reaches KV (keys are limited to 512 bytes).
 */
export function requestHostname(url: URL): string | undefined {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) return undefined;
  if (!/^[a-z0-9.-]+$/.test(host) && !/^\[[0-9a-f:.]+\]$/.test(host)) return undefined;
  return host;
}
