/**
 * The egress allow-list (CCTL_EGRESS_ALLOW) and the destinations checked
 * against it. An entry is `host`, `host:port`, `*.domain` or `*.domain:port`,
 * with IPv6 literals in brackets; the port is 443 when none is given. A
 * wildcard matches subdomains only, never the domain itself: list both when
 * both are wanted. Names are compared case-insensitively, without a trailing
 * dot; nothing is resolved, so the check is the same whatever DNS says.
 */
import net from 'node:net';
import { GatewayConfigError } from '../config-error.js';

export const DEFAULT_EGRESS_PORT = 443;

export interface AllowRule {
  /** The host, or for a wildcard the domain under it (without "*."). */
  host: string;
  wildcard: boolean;
  port: number;
}

/** A destination as the client named it, normalised for matching and logging. */
export interface Destination {
  host: string;
  port: number;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** A hostname (letters, digits, hyphens, underscores in dot-separated labels) or an IP literal, normalised; undefined if neither. */
export function normaliseHost(raw: string): string | undefined {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (net.isIP(host)) return host;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  return host.split('.').every((label) => LABEL.test(label)) ? host : undefined;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Splits `host[:port]` / `[v6][:port]`; the port text is undefined when absent. */
function splitHostPort(text: string): { host: string; port: string | undefined } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { host: text, port: undefined };
    const rest = text.slice(close + 1);
    return { host: text.slice(0, close + 1), port: rest.startsWith(':') ? rest.slice(1) : rest || undefined };
  }
  const colon = text.lastIndexOf(':');
  // More than one colon without brackets is a bare IPv6 literal, with no port.
  if (colon < 0 || text.indexOf(':') !== colon) return { host: text, port: undefined };
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** Parses a destination (a CONNECT authority, or a URL's host and port); undefined if malformed. */
export function parseDestination(text: string, defaultPort: number): Destination | undefined {
  const { host: rawHost, port: rawPort } = splitHostPort(text.trim());
  const host = normaliseHost(rawHost);
  const port = rawPort === undefined ? defaultPort : parsePort(rawPort);
  return host && port ? { host, port } : undefined;
}

export function parseAllowRule(entry: string): AllowRule {
  const fail = (why: string) =>
    new GatewayConfigError(`CCTL_EGRESS_ALLOW: "${entry}" ${why}. Entries look like host, host:port, *.domain or *.domain:port.`);
  const wildcard = entry.startsWith('*.');
  const { host: rawHost, port: rawPort } = splitHostPort(wildcard ? entry.slice(2) : entry);
  const host = normaliseHost(rawHost);
  if (!host) throw fail('is not a host name or IP address');
  if (wildcard && (net.isIP(host) || !host.includes('.'))) {
    throw fail('is too wide: a wildcard needs a domain with at least two labels, such as *.example.com');
  }
  const port = rawPort === undefined ? DEFAULT_EGRESS_PORT : parsePort(rawPort);
  if (!port) throw fail('has a port outside 1-65535');
  return { host, wildcard, port };
}

/** Entries are separated by commas or whitespace; an empty list allows nothing. */
export function parseAllowList(text: string): AllowRule[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(parseAllowRule);
}

export function isAllowed(rules: readonly AllowRule[], destination: Destination): boolean {
  return rules.some(
    (rule) =>
      rule.port === destination.port &&
      (rule.wildcard ? destination.host.endsWith(`.${rule.host}`) : destination.host === rule.host),
  );
}

/** host:port, with an IPv6 literal in brackets. */
export function hostPort(destination: Destination): string {
  return `${net.isIPv6(destination.host) ? `[${destination.host}]` : destination.host}:${destination.port}`;
}

/** The allow-list entry that would let this destination through, as `cctl init --allow` takes it. */
export function entryFor(destination: Destination): string {
  const full = hostPort(destination);
  return destination.port === DEFAULT_EGRESS_PORT ? full.slice(0, -`:${DEFAULT_EGRESS_PORT}`.length) : full;
}
