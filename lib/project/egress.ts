/**
 * The egress allow-list of an isolated stack (the `allow` setting): what its
 * entries may look like, the named presets, and their expansion into the
 * gateway's CCTL_EGRESS_ALLOW (docs/CONTRACT.md). Pure: no files, no processes.
 *
 * An entry is a preset name, or a host entry in the allow-list grammar that
 * the gateway itself uses (lib/gateway/egress/grammar.ts, compiled into cctl
 * too): `host`, `host:port`, `*.domain`, `*.domain:port`, an IPv4 address or
 * an IPv6 address in brackets (port 443 when none is given). `*.domain`
 * matches subdomains only; list `domain` too for the apex.
 */
import { type AllowRule, formatRule, parseRule } from '../gateway/egress/grammar.js';

// The grammar's destination side, for what cctl reads back from the gateway's log (ops/egress.ts).
export { entryFor, hostPort, parseDestination } from '../gateway/egress/grammar.js';
import { UsageError } from '../kernel/errors.js';

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

/** A preset that the word was likely meant to be (same first three letters: githb, pip-i, npmjs). */
function nearestPreset(word: string): string | undefined {
  return Object.keys(PRESETS).find((p) => p.slice(0, 3) === word.slice(0, 3) || word.startsWith(p));
}

function invalid(entry: string, why: string, where: string): UsageError {
  return new UsageError(
    `"${entry}" in ${where} is not an allow-list entry: ${why}.`,
    `Write a preset (${Object.keys(PRESETS).join(', ')}), a host (example.com), host:port (example.com:8443, intranet:443), *.domain (*.example.com) or an address (10.0.0.5:3128, [fd00::5]:443).`,
  );
}

/** Parses one host entry (not a preset) with the gateway's own grammar; throws a UsageError naming `where`. */
export function parseHostEntry(text: string, where = 'allow'): AllowRule {
  const parsed = parseRule(text);
  if (!parsed.ok) throw invalid(text, parsed.why, where);
  return parsed.value;
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
  if (/^[a-z0-9_-]+$/.test(entry)) {
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
    if (typeof item !== 'string' && typeof item !== 'number')
      throw new UsageError(`${where} must be a list of hosts and presets, not ${JSON.stringify(item)}.`);
    const text = String(item).trim();
    if (!text) continue;
    const entry = checkAllowEntry(text, where);
    if (!out.includes(entry)) out.push(entry);
  }
  return out;
}

/**
 * The gateway's allow-list: presets expanded, every entry as host:port,
 * duplicates dropped, in the order given. Joined with commas, this is
 * CCTL_EGRESS_ALLOW.
 */
export function expandAllow(entries: readonly string[]): string[] {
  const out: string[] = [];
  const add = (text: string) => {
    const formatted = formatRule(parseHostEntry(text));
    if (!out.includes(formatted)) out.push(formatted);
  };
  for (const entry of entries) {
    const preset = PRESETS[entry.trim().toLowerCase()];
    if (preset) preset.hosts.forEach(add);
    else add(entry);
  }
  return out;
}

/** One line for init's output: what an isolated claude-cli may reach, or undefined when egress does not apply. */
export function egressSummary(s: { isolate: boolean; proxy: string; allow: readonly string[] }): string | undefined {
  if (!s.isolate || s.proxy !== 'builtin') return undefined;
  const hosts = expandAllow(s.allow).length;
  const list = s.allow.length ? `${s.allow.join(', ')} (${hosts} host${hosts === 1 ? '' : 's'})` : 'nothing (egress closed)';
  return `Isolated: claude-cli reaches only the gateway, and through it ${list}. Add with "cctl init --allow HOST"; "cctl egress" lists what was refused.`;
}
