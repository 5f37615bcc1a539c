import { BlockList, isIP } from 'node:net';

/** Thrown when a webhook URL, or an address its host resolves to, is not allowed (SSRF guard). */
export class UrlRefusedError extends Error {
  override readonly name = 'UrlRefusedError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`URL refused: ${reason}`);
  }
}

export interface UrlGuardOptions {
  /** Lets http:// through; https only otherwise. @default false */
  allowHttp: boolean;
  /** CIDRs exempt from the address checks (e.g. 127.0.0.0/8 for local receivers). @default [] */
  allowedCidrs: readonly string[];
}

const BLOCKED_V4 = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const;

const BLOCKED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 can reach any IPv4 address
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local, incl. fd00:ec2::254 (AWS metadata)
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

const blocked = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** Expands an IPv6 address into 8 16-bit groups (handles `::` and a dotted IPv4 tail). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16));
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const zeroHead = g.slice(0, 5).every((x) => x === 0);
  const mapped = zeroHead && g[5] === 0xffff;
  const compatible = zeroHead && g[5] === 0 && (g[6] !== 0 || g[7] > 1);
  if (!mapped && !compatible) return undefined;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

function allowList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, prefix] = cidr.split('/');
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net, Number(prefix), family);
  }
  return list;
}

export class UrlGuard {
  private readonly allowed: BlockList;

  constructor(private readonly options: UrlGuardOptions) {
    this.allowed = allowList(options.allowedCidrs);
  }

  /** Why `address` (a resolved or literal IP) may not be connected to, or undefined when it may. */
  addressRefusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `"${address}" is not an IP address`;
    const v4 = family === 6 ? embeddedIpv4(address) : address;
    const [addr, type] = v4 ? [v4, 'ipv4' as const] : [address, 'ipv6' as const];
    if (this.allowed.check(addr, type)) return undefined;
    if (blocked.check(addr, type)) return `${address} is a private, loopback, link-local or reserved address`;
    return undefined;
  }

  /**
   * Checks what can be checked without DNS: scheme, credentials, and the host when it is an IP
   * literal (the URL parser has already normalised decimal, octal, hex and short forms).
   * Returns the parsed URL. Resolved addresses are checked at connect time (see http-client.ts).
   */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlRefusedError(raw, 'not a valid absolute URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.options.allowHttp)) {
      throw new UrlRefusedError(raw, this.options.allowHttp ? 'only http and https URLs are allowed' : 'only https URLs are allowed');
    }
    if (url.username || url.password) throw new UrlRefusedError(raw, 'credentials in the URL are not allowed');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host)) {
      const refusal = this.addressRefusal(host);
      if (refusal) throw new UrlRefusedError(raw, refusal);
    } else if (host === 'localhost' || host.endsWith('.localhost')) {
      const refusal = this.addressRefusal('127.0.0.1');
      if (refusal) throw new UrlRefusedError(raw, 'localhost is a loopback address');
    }
    return url;
  }
}
