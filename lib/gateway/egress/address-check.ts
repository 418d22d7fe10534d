/**
 * Addresses, not only names: after the allow-list lets a name through, the
 * name is resolved once here, each address is checked, and the tunnel
 * connects to the checked address itself (no second lookup, so DNS cannot
 * answer differently in between). Refused unless the allow-list names that
 * very address: loopback, link-local (where cloud metadata services answer),
 * the other metadata addresses, the unspecified address, and the gateway's
 * own addresses. A listed `localhost` would otherwise reach the gateway's own
 * port, and a name that an attacker's DNS points at 169.254.169.254 the
 * cloud's credentials. Private ranges stay reachable: the team's own
 * services on the stack's networks are listed by name and live there.
 *
 * The resolver, the connect function and the interface list are injected
 * (EgressNet), so tests assert that nothing is dialled for a refused address.
 */
import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import { cachedResolve, DEFAULT_DNS_CACHE_SECONDS, DNS_CACHE_NAMES } from './dns-cache.js';
import { type AllowRule, type Destination, namesAddress } from './grammar.js';

export interface EgressNet {
  /** Every address of a name, in the resolver's order; an IP literal is its own answer. */
  resolve(host: string): Promise<string[]>;
  /** Opens the TCP connection to a checked address. */
  connect(options: net.TcpNetConnectOpts): net.Socket;
  /** The gateway's own addresses (every interface). */
  ownAddresses(): ReadonlySet<string>;
}

/** How long the interface list is reused: reading it costs about a millisecond, and interfaces rarely change. */
const OWN_ADDRESSES_TTL_MS = 10_000;

function interfaceAddresses(read: () => ReturnType<typeof os.networkInterfaces>): () => ReadonlySet<string> {
  let cached: { at: number; addresses: ReadonlySet<string> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > OWN_ADDRESSES_TTL_MS) {
      const addresses = Object.values(read()).flatMap((list) => (list ?? []).map((a) => canonical(a.address)));
      cached = { at: now, addresses: new Set(addresses) };
    }
    return cached.addresses;
  };
}

/** The system's resolver, with answers reused for `dnsCacheSeconds` (dns-cache.ts). */
export function systemNet(read = os.networkInterfaces, dnsCacheSeconds = DEFAULT_DNS_CACHE_SECONDS): EgressNet {
  // ADDRCONFIG: no IPv6 answers in a container that has no IPv6 address to reach them from.
  const lookup = cachedResolve(
    async (host) => (await dns.promises.lookup(host, { all: true, hints: dns.ADDRCONFIG })).map((a) => a.address),
    { ttlMs: dnsCacheSeconds * 1000, maxNames: DNS_CACHE_NAMES },
  );
  return {
    resolve: (host) => (net.isIP(host) ? Promise.resolve([host]) : lookup(host)),
    connect: (options) => net.connect(options),
    ownAddresses: interfaceAddresses(read),
  };
}

export type RefusedKind = 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'gateway';

const RANGES: Array<[RefusedKind, string, number, 'ipv4' | 'ipv6']> = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  // 169.254.169.254 (AWS, GCP, Azure, OpenStack) and 169.254.170.2 (ECS) are in here.
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  // Metadata services outside link-local: AWS's IPv6 endpoint, Alibaba Cloud's.
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'],
  ['metadata', '100.100.100.200', 32, 'ipv4'],
];

const LISTS = RANGES.map(([kind, address, prefix, family]) => {
  const list = new net.BlockList();
  list.addSubnet(address, prefix, family);
  return [kind, list] as const;
});

/** An IPv4-mapped IPv6 address (::ffff:7f00:1) as the IPv4 address it is; IPv6 in canonical form. */
export function canonical(address: string): string {
  const text = address.toLowerCase().replace(/%.*$/, '');
  if (!net.isIPv6(text)) return text;
  const full = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(full);
  if (!mapped) return full;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Why the gateway does not dial this address for a name, or undefined when it may. */
export function refusedKind(address: string, own: ReadonlySet<string>): RefusedKind | undefined {
  const ip = canonical(address);
  const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
  for (const [kind, list] of LISTS) if (list.check(ip, family)) return kind;
  return own.has(ip) ? 'gateway' : undefined;
}

export type AddressCheck = { ok: true; address: string } | { ok: false; address: string; kind: RefusedKind };

/**
 * The first address the destination may be dialled at: one that is not
 * refused, or one the allow-list names literally. When none is, the first
 * refusal, to tell the client why.
 */
export function checkAddresses(
  addresses: readonly string[],
  destination: Destination,
  rules: readonly AllowRule[],
  own: ReadonlySet<string>,
): AddressCheck | undefined {
  let refusal: AddressCheck | undefined;
  for (const raw of addresses) {
    const address = canonical(raw);
    const kind = refusedKind(address, own);
    if (!kind || namesAddress(rules, address, destination.port)) return { ok: true, address };
    refusal ??= { ok: false, address, kind };
  }
  return refusal;
}

const WHY: Record<RefusedKind, string> = {
  loopback: 'a loopback address (the gateway itself)',
  'link-local': 'a link-local address, where cloud metadata services answer',
  metadata: 'a cloud metadata address',
  unspecified: 'the unspecified address (the gateway itself)',
  gateway: "one of the gateway's own addresses",
};

/** The 403 body for a refused address: what it was, and for loopback-like ones the literal entry that reaches it. */
export function addressRefusal(named: string, check: Extract<AddressCheck, { ok: false }>, entry: string): string {
  const literal =
    check.kind === 'link-local' || check.kind === 'metadata'
      ? ''
      : `Only an entry naming the address itself reaches it: cctl init --allow ${entry} && cctl up\n`;
  return `cctl gateway: ${named} resolves to ${check.address}, ${WHY[check.kind]}, which a name on the allow-list does not reach.\n${literal}`;
}
