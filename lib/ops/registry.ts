/**
 * What the package registries serve: the newest installable Claude Code and
 * ccusage on npm, and the monitor on PyPI. "Installable" means the package's
 * Linux binary for this architecture is served at that version too (both
 * tools install a per-platform package; a mirror may lag behind on those, and
 * the image build would fail). The npm registry is the one npm uses here
 * (npm_config_registry), reached with Node's fetch, which trusts
 * NODE_EXTRA_CA_CERTS like npm does.
 */
import { CctlError } from '../kernel/errors.js';

export const CLAUDE_PACKAGE = '@anthropic-ai/claude-code';
export const CCUSAGE_PACKAGE = 'ccusage';
export const MONITOR_PACKAGE = 'claude-monitor';
const TIMEOUT_MS = 15_000;

export interface Packument {
  'dist-tags': Record<string, string>;
  versions: Record<string, unknown>;
}

export function npmRegistry(env = process.env): string {
  const url = env.npm_config_registry || env.NPM_CONFIG_REGISTRY || 'https://registry.npmjs.org/';
  return url.endsWith('/') ? url : `${url}/`;
}

export class RegistryUnreachable extends CctlError {}

export async function fetchPackument(name: string, env = process.env): Promise<Packument | undefined> {
  const url = `${npmRegistry(env)}${name.replace('/', '%2f')}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/vnd.npm.install-v1+json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new RegistryUnreachable(
      `The npm registry ${npmRegistry(env)} did not answer: ${cause?.code ?? cause?.message ?? (error as Error).message}.`,
      {
        hint: 'Check the network (and npm_config_registry, or NODE_EXTRA_CA_CERTS behind a TLS-inspecting proxy), then run cctl update again.',
      },
    );
  }
  if (response.status === 404) return undefined;
  if (!response.ok) throw new RegistryUnreachable(`The npm registry answered ${response.status} for ${name}.`);
  return (await response.json()) as Packument;
}

/** Negative when version a is older than b, positive when newer, 0 when equal (MAJOR.MINOR.PATCH, numerically). */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return (x![i] ?? 0) - (y![i] ?? 0);
  return 0;
}

/** Stable versions (no prerelease), newest first. */
export function stableVersions(p: Packument): string[] {
  return Object.keys(p.versions)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
    .sort((a, b) => compareVersions(b, a));
}

export interface Tool {
  label: string;
  pkg: string;
  /** The per-platform binary package that must be served at the same version. */
  platformPkg: string;
  minMajor?: number;
}

export function claudeTool(musl: boolean, arch = process.arch): Tool {
  return { label: 'Claude Code', pkg: CLAUDE_PACKAGE, platformPkg: `${CLAUDE_PACKAGE}-linux-${arch}${musl ? '-musl' : ''}` };
}

export function ccusageTool(arch = process.arch): Tool {
  return { label: 'ccusage', pkg: CCUSAGE_PACKAGE, platformPkg: `@ccusage/ccusage-linux-${arch}`, minMajor: 19 };
}

/** The newest version of `tool` at or below its `latest` tag whose platform binary is served. */
export async function newestInstallable(tool: Tool, env = process.env): Promise<string> {
  const [main, platform] = await Promise.all([fetchPackument(tool.pkg, env), fetchPackument(tool.platformPkg, env)]);
  if (!main) throw new RegistryUnreachable(`The npm registry ${npmRegistry(env)} has no ${tool.pkg}.`);
  const latest = main['dist-tags'].latest;
  const served = new Set(Object.keys(platform?.versions ?? {}));
  const all = stableVersions(main);
  const from = latest && all.includes(latest) ? all.indexOf(latest) : 0;
  const found = all.slice(from).find((v) => served.has(v) && (!tool.minMajor || Number(v.split('.')[0]) >= tool.minMajor));
  if (!found) throw new CctlError(`No ${tool.label} version on ${npmRegistry(env)} has its ${tool.platformPkg} binary served.`);
  return found;
}

/** Refuses a version the registry does not serve (or whose binary it lacks), before anything is built. */
export async function assertInstallable(tool: Tool, version: string, env = process.env): Promise<void> {
  const [main, platform] = await Promise.all([fetchPackument(tool.pkg, env), fetchPackument(tool.platformPkg, env)]);
  const newest = main ? stableVersions(main)[0] : undefined;
  if (!main || !(version in main.versions)) {
    throw new CctlError(`${tool.label} ${version} does not exist on ${npmRegistry(env)}.`, {
      hint: `The newest is ${newest ?? 'unknown'}: cctl update --${tool.pkg === CCUSAGE_PACKAGE ? 'ccusage' : 'claude'}-version ${newest ?? 'X.Y.Z'}`,
    });
  }
  if (!(version in (platform?.versions ?? {}))) {
    throw new CctlError(
      `${tool.label} ${version} exists, but its Linux binary (${tool.platformPkg}) is not served at that version, so the image cannot install it.`,
    );
  }
  if (tool.minMajor && Number(version.split('.')[0]) < tool.minMajor) {
    throw new CctlError(`${tool.label} ${version} is older than ${tool.minMajor}: cctl usage needs "ccusage claude <report>".`);
  }
}

/** The monitor's newest release on PyPI, or why it is unknown (PyPI is often out of reach behind proxies). */
export async function newestMonitor(env = process.env): Promise<{ version?: string; unknown?: string }> {
  // PyPI's JSON API; a PIP_INDEX_URL mirror speaks the simple index only, so it is not asked.
  const index = env.CCTL_PYPI_JSON_URL || 'https://pypi.org/pypi';
  try {
    const response = await fetch(`${index}/${MONITOR_PACKAGE}/json`, { signal: AbortSignal.timeout(8_000) });
    if (!response.ok) return { unknown: `PyPI answered ${response.status}` };
    const body = (await response.json()) as { info?: { version?: string } };
    return body.info?.version ? { version: body.info.version } : { unknown: 'PyPI gave no version' };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { unknown: `PyPI not reachable (${cause?.code ?? (error as Error).name})` };
  }
}
