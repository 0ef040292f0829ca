import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Where a build's install and build commands may connect: the public internet on the web ports,
 * and nothing of the platform or its network. The decision is always made on the IP address that
 * is actually connected to, never on a name, so a name that resolves to a private address (DNS
 * rebinding) is refused like the address itself.
 */
export interface EgressPolicy {
  /** Why this address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
  /** Ports a build may connect to. */
  readonly ports: ReadonlySet<number>;
}

/** The web: registries, git hosts and CDNs. Git over SSH is not proxied (see docs/build-isolation.md). */
export const DEFAULT_EGRESS_PORTS: readonly number[] = [80, 443];

/**
 * Ranges a build never reaches, with the reason it is told. The documentation ranges (TEST-NET-1
 * to 3, 2001:db8::/32) are deliberately absent: they are not routed on the internet, and on the
 * project's own machines the package registry resolves into one of them.
 */
const DENIED_RANGES: readonly [network: string, prefix: number, family: 'ipv4' | 'ipv6', reason: string][] = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified address (reaches the host)'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier-grade NAT) address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives here)'],
  ['192.0.0.0', 24, 'ipv4', 'an IETF protocol address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'an unspecified address (reaches the host)'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fe80::', 10, 'ipv6', 'a link-local address (cloud metadata lives here)'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
  ['100::', 64, 'ipv6', 'a discard address'],
];

/**
 * The policy for one build. The host's own interface addresses are looked up now, not assumed by
 * range: a machine's public address reaches every service bound to 0.0.0.0 on it.
 */
export function createEgressPolicy(
  opts: { ports?: readonly number[]; hostAddresses?: readonly string[] } = {},
): EgressPolicy {
  const ranges = DENIED_RANGES.map(([network, prefix, family, reason]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    return { list, reason };
  });
  const own = new BlockList();
  for (const address of opts.hostAddresses ?? hostInterfaceAddresses()) {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    own.addAddress(address, family);
  }

  const refusal = (address: string): string | undefined => {
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const version = isIP(bare);
    if (version === 0) return 'not an IP address';
    const family = version === 6 ? 'ipv6' : 'ipv4';
    // An IPv6 form that carries an IPv4 address (NAT64, 6to4) is judged by that address as well.
    const embedded = version === 6 ? embeddedIpv4(bare) : undefined;
    for (const candidate of embedded
      ? [
          [bare, family],
          [embedded, 'ipv4'],
        ]
      : [[bare, family]]) {
      const [addr, fam] = candidate as [string, 'ipv4' | 'ipv6'];
      // BlockList matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against IPv4 rules by itself.
      for (const { list, reason } of ranges) if (list.check(addr, fam)) return reason;
      if (own.check(addr, fam)) return "one of the build host's own addresses";
    }
    return undefined;
  };
  return { refusal, ports: new Set(opts.ports ?? DEFAULT_EGRESS_PORTS) };
}

/** Every address of every interface of this machine, loopback included. */
export function hostInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((infos) => infos ?? [])
    .map((info) => info.address.replace(/%.*$/, ''));
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 address. */
function embeddedIpv4(ipv6: string): string | undefined {
  const groups = expandIpv6(ipv6);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return v4(groups[6]!, groups[7]!);
  }
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it has an IPv4 tail. */
function expandIpv6(address: string): number[] | undefined {
  if (address.includes('.')) return undefined;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  return groups.length === 8 ? groups : undefined;
}
