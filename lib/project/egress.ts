/**
 * The egress allow-list of an isolated stack (the `allow` setting): what its
 * entries may look like, the named presets, and their expansion into the
 * gateway's CCTL_EGRESS_ALLOW (docs/CONTRACT.md). Pure: no files, no processes.
 *
 * An entry is a preset name, or `host`, `host:port`, `*.domain`, `*.domain:port`
 * (port 443 when none is given); IPv6 addresses in brackets. `*.domain` matches subdomains only, as the
 * gateway matches it; list `domain` too for the apex.
 */
import { isIPv6 } from 'node:net';
import { UsageError } from '../kernel/errors.js';

export const DEFAULT_PORT = 443;

/**
 * Named presets. Hosts are what each tool contacts itself, from inside
 * claude-cli; hosts that only the user's browser opens are left out.
 */
export const PRESETS: Readonly<Record<string, { describe: string; hosts: readonly string[] }>> = {
  // https://code.claude.com/docs/en/network-config#network-access-requirements lists api.anthropic.com
  // (the API), claude.ai (claude.ai account authentication) and platform.claude.com (Console account
  // authentication). Claude Code 2.1.332's own OAuth table agrees: the token exchange and refresh go to
  // platform.claude.com/v1/oauth/token, and API-key creation and roles to api.anthropic.com/api/oauth/*;
  // the authorize pages (claude.com, platform.claude.com) open in the user's browser, not in the container.
  anthropic: {
    describe: 'Claude Code login and token refresh, and the API itself',
    hosts: ['api.anthropic.com', 'claude.ai', 'platform.claude.com'],
  },
  github: {
    describe: 'git over HTTPS, the API, raw files, release downloads',
    hosts: [
      'github.com',
      'api.github.com',
      'codeload.github.com',
      'raw.githubusercontent.com',
      'objects.githubusercontent.com',
      'release-assets.githubusercontent.com',
    ],
  },
  gitlab: { describe: 'git over HTTPS and the API on gitlab.com', hosts: ['gitlab.com'] },
  npm: { describe: 'npm and Yarn 1 registries', hosts: ['registry.npmjs.org', 'registry.yarnpkg.com'] },
  pypi: { describe: 'pip: the index and the package files', hosts: ['pypi.org', 'files.pythonhosted.org'] },
  crates: { describe: 'cargo: the sparse index and crate downloads', hosts: ['crates.io', 'index.crates.io', 'static.crates.io'] },
  go: { describe: 'Go modules: the module proxy and checksum database', hosts: ['proxy.golang.org', 'sum.golang.org'] },
};

/** What an isolated stack allows when the project lists nothing. */
export const DEFAULT_ALLOW: readonly string[] = ['anthropic'];

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export interface AllowEntry {
  /** Lower case, without a trailing dot; `*.` first for a wildcard. */
  host: string;
  port: number;
  wildcard: boolean;
}

/** A preset that the word was likely meant to be (same first three letters: githb, pip-i, npmjs). */
function nearestPreset(word: string): string | undefined {
  return Object.keys(PRESETS).find((p) => p.slice(0, 3) === word.slice(0, 3) || word.startsWith(p));
}

function invalid(entry: string, why: string, where: string): UsageError {
  return new UsageError(
    `"${entry}" in ${where} is not an allow-list entry: ${why}.`,
    `Write a preset (${Object.keys(PRESETS).join(', ')}), a host (example.com), host:port (example.com:8443) or *.domain (*.example.com).`,
  );
}

/** Parses one host entry (not a preset); throws a UsageError naming `where`. */
export function parseHostEntry(text: string, where = 'allow'): AllowEntry {
  const raw = text.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(raw);
  if (v6) {
    const port = v6[2] === undefined ? DEFAULT_PORT : Number(v6[2]);
    if (!isIPv6(v6[1]!)) throw invalid(text, 'not an IPv6 address', where);
    if (port < 1 || port > 65535) throw invalid(text, 'the port must be a number from 1 to 65535', where);
    return { host: `[${v6[1]}]`, port, wildcard: false };
  }
  let host = raw;
  let port = DEFAULT_PORT;
  const colon = raw.lastIndexOf(':');
  if (colon >= 0) {
    const portText = raw.slice(colon + 1);
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw invalid(text, 'the port must be a number from 1 to 65535', where);
    }
    port = Number(portText);
    host = raw.slice(0, colon);
  }
  host = host.replace(/\.$/, '');
  if (host === '*' || host === '') throw invalid(text, 'it names no host (cctl has no allow-all; turn isolation off instead)', where);
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.includes('*')) throw invalid(text, 'a wildcard may only be the first label, as in *.example.com', where);
  const ip = IPV4.exec(name);
  if (ip) {
    if (wildcard) throw invalid(text, 'an IP address cannot have a wildcard', where);
    if (ip.slice(1).some((o) => Number(o) > 255)) throw invalid(text, 'not an IPv4 address', where);
    return { host: name, port, wildcard };
  }
  const labels = name.split('.');
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) {
    throw invalid(text, 'host names are letters, digits and hyphens, in dot-separated labels', where);
  }
  if (wildcard && labels.length < 2) throw invalid(text, 'a wildcard over a whole top-level domain is too broad', where);
  return { host, port, wildcard };
}

/**
 * Checks one entry of the `allow` setting and returns it in its stored form
 * (trimmed, lower case). A word without a dot must be a preset: a single-label
 * host is written with its port (`intranet:443`) so that a misspelt preset
 * never silently becomes a host.
 */
export function checkAllowEntry(text: string, where = 'allow'): string {
  const entry = text.trim().toLowerCase();
  if (entry in PRESETS) return entry;
  if (/^[a-z0-9-]+$/.test(entry)) {
    const near = nearestPreset(entry);
    throw new UsageError(
      `"${text}" in ${where} is neither a preset nor a host name with a dot.`,
      `${near ? `Did you mean the preset "${near}"? ` : ''}Presets: ${Object.keys(PRESETS).join(', ')}. ` +
        `A host without a dot is written with its port, e.g. ${entry}:443.`,
    );
  }
  parseHostEntry(entry, where);
  return entry;
}

/** `allow` from a stored list, or comma/space-separated text (flags, environment). */
export function allowList(value: unknown, where: string): string[] {
  if (value === null || value === undefined || value === '') return [];
  const items = Array.isArray(value) ? value : String(value).split(/[\s,]+/);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && typeof item !== 'number') throw new UsageError(`${where} must be a list of hosts and presets, not ${JSON.stringify(item)}.`);
    const text = String(item).trim();
    if (!text) continue;
    const entry = checkAllowEntry(text, where);
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

function formatEntry(e: AllowEntry): string {
  return `${e.host}:${e.port}`;
}

/**
 * The gateway's allow-list: presets expanded, every entry as host:port,
 * duplicates dropped, in the order given. Joined with commas, this is
 * CCTL_EGRESS_ALLOW.
 */
export function expandAllow(entries: readonly string[]): string[] {
  const out: string[] = [];
  const add = (text: string) => {
    const formatted = formatEntry(parseHostEntry(text));
    if (!out.includes(formatted)) out.push(formatted);
  };
  for (const entry of entries) {
    const preset = PRESETS[entry.trim().toLowerCase()];
    if (preset) preset.hosts.forEach(add);
    else add(entry);
  }
  return out;
}

/** The `cctl init --allow …` argument that allows a denied destination (host:port, or host:443 shown as host). */
export function allowArgumentFor(destination: string): string {
  const colon = destination.lastIndexOf(':');
  const host = colon > 0 ? destination.slice(0, colon) : destination;
  const port = colon > 0 ? destination.slice(colon + 1) : String(DEFAULT_PORT);
  return port === String(DEFAULT_PORT) && host.includes('.') ? host : `${host}:${port}`;
}

/** One line for init's output: what an isolated claude-cli may reach, or undefined when egress does not apply. */
export function egressSummary(s: { isolate: boolean; proxy: string; allow: readonly string[] }): string | undefined {
  if (!s.isolate || s.proxy !== 'builtin') return undefined;
  const hosts = expandAllow(s.allow).length;
  const list = s.allow.length ? `${s.allow.join(', ')} (${hosts} host${hosts === 1 ? '' : 's'})` : 'nothing (egress closed)';
  return `Isolated: claude-cli reaches only the gateway, and through it ${list}. Add with "cctl init --allow HOST"; "cctl egress" lists what was refused.`;
}
