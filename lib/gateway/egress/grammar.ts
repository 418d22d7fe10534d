/**
 * The allow-list grammar: how an entry is written, what destination it
 * matches, and how a destination is written back as the entry that allows
 * it. One module for both sides: the gateway compiles it (its tsconfig, Node
 * builtins only) and so does cctl (lib/project/egress.ts checks `--allow`
 * with it), so whatever one side writes the other reads the same way.
 *
 * An entry is
 *   host            a name of dot-separated labels (letters, digits, hyphens,
 *                   underscores, as Compose service names may have), port 443;
 *   host:port       any port 1-65535;
 *   *.domain[:port] every name under domain (never domain itself), and the
 *                   domain has at least two labels;
 *   1.2.3.4[:port]  an IPv4 address, dotted quad only;
 *   [v6][:port]     an IPv6 address, always in brackets.
 * A name without a dot is written with its port (`intranet:443`), so that a
 * misspelt preset name never silently becomes a host. A name whose last label
 * is a number (`127.1`, `0x7f.1`) reads as an IPv4 address to resolvers and
 * URL parsers alike, so it is refused: write the address in full. Names are
 * compared in lower case without a trailing dot; IP addresses in their
 * canonical form (`[0:0::1]` is `[::1]`). Nothing here resolves a name.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const DEFAULT_PORT = 443;

export interface AllowRule {
  /** A lower-case name without a trailing dot, the domain under a wildcard (without "*."), or a canonical IP address (IPv6 without brackets). */
  host: string;
  wildcard: boolean;
  port: number;
}

/** A destination as a client named it, normalised the same way. */
export interface Destination {
  host: string;
  port: number;
}

/** Why an entry is not one, in words that fit after `"entry" is not an allow-list entry: `. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const NUMERIC_LABEL = /^(0x[0-9a-f]*|\d+)$/;

/** The canonical text of an IPv6 literal (lower case, zeros compressed), or undefined. */
function canonicalIPv6(text: string): string | undefined {
  if (!isIPv6(text) || text.includes('%')) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** A host as it is matched: a lower-case name, or a canonical IP address (brackets around IPv6 optional). */
export function parseHost(raw: string): Parsed<string> {
  const text = raw.trim().toLowerCase();
  if (text.startsWith('[') || text.includes(':')) {
    const v6 = canonicalIPv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
    return v6 ? { ok: true, value: v6 } : { ok: false, why: 'not an IPv6 address' };
  }
  if (isIPv4(text)) return { ok: true, value: text };
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name === '') return { ok: false, why: 'it names no host' };
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    return { ok: false, why: 'host names are letters, digits, hyphens and underscores, in dot-separated labels' };
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!)) {
    return { ok: false, why: 'not an IPv4 address (a name ending in a number reads as one: write an address in full, such as 10.0.0.1)' };
  }
  return { ok: true, value: name };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Splits `host[:port]` or `[v6][:port]`; a bare IPv6 literal (more than one colon) has no port. */
function splitHostPort(text: string): { host: string; port: string | undefined; bareV6: boolean } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const rest = close < 0 ? '' : text.slice(close + 1);
    if (close < 0 || (rest !== '' && !rest.startsWith(':'))) return { host: text, port: undefined, bareV6: false };
    return { host: text.slice(0, close + 1), port: rest === '' ? undefined : rest.slice(1), bareV6: false };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, port: undefined, bareV6: false };
  if (text.indexOf(':') !== colon) return { host: text, port: undefined, bareV6: true };
  return { host: text.slice(0, colon), port: text.slice(colon + 1), bareV6: false };
}

/** One allow-list entry (not a preset: presets are cctl's, expanded before the gateway sees them). */
export function parseRule(entry: string): Parsed<AllowRule> {
  const text = entry.trim().toLowerCase();
  if (text === '' || text === '*' || text.startsWith('*:')) return { ok: false, why: 'it names no host (there is no allow-all)' };
  const wildcard = text.startsWith('*.');
  const { host: rawHost, port: rawPort, bareV6 } = splitHostPort(wildcard ? text.slice(2) : text);
  if (bareV6) return { ok: false, why: `an IPv6 address is written in brackets, such as [${text}] or [${text}]:443` };
  if (rawHost.includes('*')) return { ok: false, why: 'a wildcard may only be the first label, as in *.example.com' };
  const host = parseHost(rawHost);
  if (!host.ok) return host;
  const ip = isIPv4(host.value) || isIPv6(host.value);
  if (wildcard && ip) return { ok: false, why: 'an IP address cannot have a wildcard' };
  if (wildcard && !host.value.includes('.'))
    return {
      ok: false,
      why: 'a wildcard over a whole top-level domain is too broad: it needs a domain of two labels or more, such as *.example.com',
    };
  if (!ip && !wildcard && !host.value.includes('.') && rawPort === undefined) {
    return {
      ok: false,
      why: `a name without a dot is written with its port, such as ${host.value}:${DEFAULT_PORT}, so that it never reads as a misspelt preset`,
    };
  }
  const port = rawPort === undefined ? DEFAULT_PORT : parsePort(rawPort);
  if (!port) return { ok: false, why: 'the port must be a number from 1 to 65535' };
  return { ok: true, value: { host: host.value, wildcard, port } };
}

/** A destination: a CONNECT authority (host:port) or a URL's host; undefined when malformed. */
export function parseDestination(text: string, defaultPort: number): Destination | undefined {
  const { host: rawHost, port: rawPort } = splitHostPort(text.trim());
  const host = parseHost(rawHost);
  const port = rawPort === undefined ? defaultPort : parsePort(rawPort);
  return host.ok && port ? { host: host.value, port } : undefined;
}

export function matches(rule: AllowRule, destination: Destination): boolean {
  return rule.port === destination.port && (rule.wildcard ? destination.host.endsWith(`.${rule.host}`) : destination.host === rule.host);
}

export function isAllowed(rules: readonly AllowRule[], destination: Destination): boolean {
  return rules.some((rule) => matches(rule, destination));
}

/** Whether a rule names exactly this IP address and port (the literal entry that lets an address check pass). */
export function namesAddress(rules: readonly AllowRule[], address: string, port: number): boolean {
  return rules.some((rule) => !rule.wildcard && rule.port === port && rule.host === address);
}

/** host:port, with an IPv6 address in brackets. */
export function hostPort(destination: Destination): string {
  return `${isIPv6(destination.host) ? `[${destination.host}]` : destination.host}:${destination.port}`;
}

/** A rule in full (`*.domain:port`, `host:port`, `[v6]:port`): CCTL_EGRESS_ALLOW as cctl writes it. */
export function formatRule(rule: AllowRule): string {
  return `${rule.wildcard ? '*.' : ''}${hostPort(rule)}`;
}

/**
 * The shortest entry that allows this destination, as `cctl init --allow`
 * takes it: the port is left out only when it is 443 and the host has a dot
 * or is an address, since a name without a dot keeps its port.
 */
export function entryFor(destination: Destination): string {
  const full = hostPort(destination);
  const short = destination.port === DEFAULT_PORT && (destination.host.includes('.') || isIPv6(destination.host));
  return short ? full.slice(0, -`:${DEFAULT_PORT}`.length) : full;
}
