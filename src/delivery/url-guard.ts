import { lookup as dnsLookup } from 'node:dns/promises';
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
  /**
   * Look host names up in DNS. Off, no name is ever resolved: IP literals and loopback names
   * (`localhost`, `*.localhost`, answered as 127.0.0.1 locally) are the only hosts accepted,
   * for networks where a DNS query must not leave the machine (the fuzz run). @default true
   */
  resolveHostnames?: boolean;
  /**
   * When set, the only addresses a delivery may connect to (an egress allowlist); the other
   * checks still apply, so a private range listed here also needs `allowedCidrs`. @default any public address
   */
  destinationCidrs?: readonly string[];
}

/** Resolves a host name to every address it has, as `dns.lookup(name, { all: true })` does. */
export type ResolveHost = (hostname: string) => Promise<{ address: string }[]>;

const BLOCKED_V4 = [
  ['0.0.0.0', 8], // "this network": 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT, incl. 100.100.100.200 (Alibaba Cloud metadata)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments, incl. 192.0.0.192 (Oracle Cloud metadata)
  ['192.0.2.0', 24],
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255 (broadcast)
] as const;

const BLOCKED_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 can reach any IPv4 address
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64],
  ['2001::', 32], // Teredo tunnels to an (obfuscated) IPv4 address
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local, incl. fd00:ec2::254 (AWS metadata)
  ['fe80::', 10],
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8],
] as const;

const blocked = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** Host names that always mean this machine, whatever DNS says (RFC 6761). */
const LOOPBACK_NAME = /^(localhost|.+\.localhost)$/;
/** Why a host name is refused when names are not resolved. */
const NO_DNS_REFUSAL = 'host names are not resolved by this service: use an IP address';
/** Resolution at create time is advisory: it must not hold a request for long. */
const RESOLVE_TIMEOUT_MS = 2000;

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

const dottedQuad = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');

/**
 * The IPv4 address an IPv6 address leads to: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d) and 6to4 (2002:aabb:ccdd::/48).
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  const zeroHead = g.slice(0, 4).every((x) => x === 0);
  const mapped = zeroHead && g[4] === 0 && g[5] === 0xffff;
  const compatible = zeroHead && g[4] === 0 && g[5] === 0 && (g[6] !== 0 || g[7] > 1);
  const translated = zeroHead && g[4] === 0xffff && g[5] === 0;
  if (mapped || compatible || translated) return dottedQuad(g[6], g[7]);
  if (g[0] === 0x2002) return dottedQuad(g[1], g[2]);
  return undefined;
}

function allowList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, prefix] = cidr.split('/');
    list.addSubnet(net, Number(prefix), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

const defaultResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The SSRF guard: which webhook URLs may be stored and which addresses may be connected to.
 * The same rules run at create/update time and, after DNS resolution, at delivery time.
 */
export class UrlGuard {
  private readonly allowed: BlockList;
  private readonly destinations?: BlockList;

  constructor(private readonly options: UrlGuardOptions) {
    this.allowed = allowList(options.allowedCidrs);
    if (options.destinationCidrs?.length) this.destinations = allowList(options.destinationCidrs);
  }

  /** WEBHOOK_ALLOW_HTTP: whether http URLs are accepted besides https. */
  get allowsHttp(): boolean {
    return this.options.allowHttp;
  }

  get resolvesHostnames(): boolean {
    return this.options.resolveHostnames ?? true;
  }

  /**
   * The addresses of `hostname` when names are not resolved: loopback for a loopback name,
   * without asking DNS; a refusal for any other name.
   */
  addressesWithoutDns(hostname: string): { address: string; family: 4 }[] {
    if (!LOOPBACK_NAME.test(hostname.replace(/\.$/, ''))) throw new UrlRefusedError(hostname, NO_DNS_REFUSAL);
    return [{ address: '127.0.0.1', family: 4 }];
  }

  /** Why `address` (a resolved or literal IP) may not be connected to, or undefined when it may. */
  addressRefusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `"${address}" is not an IP address`;
    const candidates: [string, 'ipv4' | 'ipv6'][] = family === 4 ? [[address, 'ipv4']] : [[address, 'ipv6']];
    const v4 = family === 6 ? embeddedIpv4(address) : undefined;
    if (v4) candidates.push([v4, 'ipv4']);
    if (this.destinations && !candidates.some(([addr, type]) => this.destinations!.check(addr, type))) {
      return `${address} is not among the destinations this service delivers to`;
    }
    // Allowed only when every form of the address is allowed or public.
    for (const [addr, type] of candidates) {
      if (this.allowed.check(addr, type)) continue;
      if (blocked.check(addr, type)) return `${address} is a private, loopback, link-local or reserved address`;
    }
    return undefined;
  }

  /**
   * Checks what can be checked without DNS: scheme, credentials, and the host when it is an IP
   * literal or a loopback name (the URL parser has already normalised decimal, octal, hex and
   * short forms such as 127.1). Returns the parsed URL.
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
    const host = hostOf(url);
    if (isIP(host)) {
      const refusal = this.addressRefusal(host);
      if (refusal) throw new UrlRefusedError(raw, refusal);
    } else if (LOOPBACK_NAME.test(host)) {
      // Resolved, it may be either loopback; unresolved, it is answered as 127.0.0.1 only.
      const loopbacks = this.resolvesHostnames ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
      if (loopbacks.some((a) => this.addressRefusal(a))) throw new UrlRefusedError(raw, `${host} is a loopback address`);
    } else if (!this.resolvesHostnames) {
      throw new UrlRefusedError(raw, NO_DNS_REFUSAL);
    }
    return url;
  }

  /**
   * `checkUrl`, then resolves a host name and refuses it when any address is refused. A name
   * that does not resolve (yet) is let through: the delivery-time check after resolution is the
   * one that protects; this one tells the customer early.
   */
  async checkUrlResolved(raw: string, resolve: ResolveHost = defaultResolve): Promise<URL> {
    const url = this.checkUrl(raw);
    const host = hostOf(url);
    if (isIP(host) || LOOPBACK_NAME.test(host)) return url;
    let timer: NodeJS.Timeout | undefined;
    const addresses = await Promise.race([
      resolve(host).catch(() => []),
      new Promise<{ address: string }[]>((done) => (timer = setTimeout(() => done([]), RESOLVE_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    for (const { address } of addresses) {
      const refusal = this.addressRefusal(address);
      if (refusal) throw new UrlRefusedError(raw, `${host} resolves to a refused address: ${refusal}`);
    }
    return url;
  }
}

/** The URL's host without IPv6 brackets or a trailing root dot (`localhost.` is `localhost`). */
function hostOf(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
