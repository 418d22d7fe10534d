/**
 * Who may use the egress proxy (CCTL_EGRESS_SOURCES). Only the stack's own
 * containers should: a gateway whose port is published must not become an
 * open proxy for the LAN.
 *
 * `auto` (the default) is the subnets of the networks the gateway's own
 * container is attached to, read from its interfaces at start, plus
 * loopback. Those are exactly the stack's networks, and cctl does not need
 * to know the subnets Docker picked. A client reaching a published port from
 * elsewhere keeps its own address under Docker's NAT and is refused. Docker's
 * userland proxy (and Docker Desktop) relay such clients from the network's
 * gateway address instead, which is inside the subnet, so `auto` refuses the
 * container's default gateway: it is the host's side of the network, never
 * one of the stack's containers. A list of CIDRs (or single addresses)
 * replaces `auto`, or adds to it when `auto` is listed.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { GatewayConfigError } from '../config-error.js';

export interface SourceFilter {
  /** The subnets accepted, for the startup log line. */
  readonly cidrs: readonly string[];
  /** Addresses refused even inside those subnets (auto: the default gateways). */
  readonly refused: readonly string[];
  allows(address: string | undefined): boolean;
}

type Interfaces = ReturnType<typeof os.networkInterfaces>;

function ownSubnets(interfaces: Interfaces): string[] {
  const cidrs = new Set<string>(['127.0.0.0/8', '::1/128']);
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) if (address.cidr && !address.internal) cidrs.add(address.cidr);
  }
  return [...cidrs];
}

/** IPv4 default gateways in a /proc/net/route table (hex, little-endian). */
export function defaultGateways(routeTable: string): string[] {
  const gateways = new Set<string>();
  for (const line of routeTable.split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== '00000000' || !gateway || !/^[0-9a-f]{8}$/i.test(gateway) || gateway === '00000000') continue;
    gateways.add([3, 2, 1, 0].map((i) => parseInt(gateway.slice(i * 2, i * 2 + 2), 16)).join('.'));
  }
  return [...gateways];
}

function readRouteTable(): string {
  try {
    return readFileSync('/proc/net/route', 'utf8');
  } catch {
    return '';
  }
}

export function parseSources(
  text: string | undefined,
  interfaces: Interfaces = os.networkInterfaces(),
  routeTable = readRouteTable(),
): SourceFilter {
  const entries = (text?.trim() || 'auto').split(/[\s,]+/).filter(Boolean);
  const cidrs = entries.flatMap((entry) => (entry === 'auto' ? ownSubnets(interfaces) : [entry]));
  const refused = entries.includes('auto') ? defaultGateways(routeTable) : [];
  const refusedList = new net.BlockList();
  for (const address of refused) refusedList.addAddress(address, 'ipv4');
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefixText] = cidr.split('/');
    const family = net.isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (!family || prefix < 0 || prefix > max) {
      throw new GatewayConfigError(`CCTL_EGRESS_SOURCES: "${cidr}" is not an address or CIDR (such as 172.30.0.0/16), nor "auto".`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return {
    cidrs,
    refused,
    allows(address) {
      if (!address) return false;
      const family = net.isIP(address);
      if (family === 0) return false;
      // BlockList matches an IPv4-mapped IPv6 address against IPv4 entries too.
      const type = family === 6 ? 'ipv6' : 'ipv4';
      return list.check(address, type) && !refusedList.check(address, type);
    },
  };
}
