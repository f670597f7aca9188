import { BlockList, isIPv4, isIPv6 } from 'node:net';

function ipv6Groups(ip: string): number[] {
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = parse(tail);
  return ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill(0), ...right] : left;
}

/**
 * The network a client address belongs to, as an `aws:SourceIp` CIDR: `ipv4PrefixLength` bits of
 * an IPv4 address (IPv4-mapped IPv6 counts as IPv4), `ipv6PrefixLength` bits of an IPv6 one.
 * Returns undefined for an address that cannot be parsed; callers refuse to issue then.
 */
export function sourceCidrFor(
  ip: string | undefined,
  lengths: { readonly ipv4PrefixLength: number; readonly ipv6PrefixLength: number },
): string | undefined {
  if (!ip) return undefined;
  const bare = ip.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const v4 = mapped ? mapped[1]! : bare;
  if (isIPv4(v4)) {
    const bits = lengths.ipv4PrefixLength;
    const n = v4.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const masked = bits === 0 ? 0 : n - (n % 2 ** (32 - bits));
    const text = [24, 16, 8, 0].map((shift) => Math.floor(masked / 2 ** shift) % 256).join('.');
    return `${text}/${bits}`;
  }
  if (!isIPv6(bare)) return undefined;
  const groups = ipv6Groups(bare);
  const bits = lengths.ipv6PrefixLength;
  const masked = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff;
  });
  const cidr = `${masked.map((g) => g.toString(16)).join(':')}/${bits}`;
  // Round-trip through node's own parser: never emit something IAM would read differently.
  new BlockList().addSubnet(masked.map((g) => g.toString(16)).join(':'), bits, 'ipv6');
  return cidr;
}
