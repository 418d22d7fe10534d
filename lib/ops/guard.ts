/**
 * The checks init runs before it writes anything: the change guard (edits
 * to the compose file since the last init or up that widen claude-cli or
 * redirect the team key, project/guard.ts) and service-name clashes (a
 * service of the user's own that happens to have the name cctl wants).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { readUtf8 } from '../kernel/fs.js';
import type { Document } from 'yaml';
import { CctlError } from '../kernel/errors.js';
import { readBaseline } from '../project/baseline.js';
import { changesSince, describeChanges, firstBaseline, snapshot, type GuardChange, type GuardSnapshot } from '../project/guard.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import { gatewayService, type PlainMap } from '../project/model.js';
import { MAX_ALIASES, type Owned } from '../project/merge.js';
import { renderOwned } from '../project/model.js';
import { fromStored, resolveSettings } from '../project/settings.js';
import { composeDocument, SETTINGS_KEY } from '../project/compose-file.js';
import type { Settings } from '../project/settings.js';

const isMap = (v: unknown): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The services cctl owns under these settings. */
export function ownedServiceNames(s: Pick<Settings, 'proxy' | 'proxy-service'>): string[] {
  return s.proxy === 'external' ? [CLI_SERVICE] : [CLI_SERVICE, gatewayService(s)];
}

/**
 * The guard's view of the file as it is now, with the settings stored in it.
 * A service of the user's own that has the gateway's name (the team is
 * renaming cctl's with proxy-service) is not held to cctl's keys: it is
 * theirs, and init refuses any clash with it.
 */
export function currentSnapshot(file: PlainMap, fileSettings: Settings, recorded?: GuardSnapshot): GuardSnapshot {
  const services = isMap(file.services) ? file.services : {};
  const ours = ownedServiceNames(fileSettings).filter(
    (name) => name === CLI_SERVICE || services[name] === undefined || recorded?.services[name] !== undefined || looksCctlMade(services[name]),
  );
  return snapshot(file, ours, fileSettings as unknown as Record<string, unknown>);
}

/** Changes since the baseline, or none when the file is new. */
export function pendingChanges(project: Project, file: PlainMap, fileSettings: Settings, rendered: Owned, env: NodeJS.ProcessEnv = process.env): GuardChange[] {
  if (!project.exists) return [];
  const recorded = readBaseline(project, env)?.guard;
  const current = currentSnapshot(file, fileSettings, recorded);
  const ours = (rendered.services ?? {}) as { [name: string]: PlainMap };
  const base = recorded ?? firstBaseline(current, ours);
  return changesSince(base, current).filter((c) => {
    // Settings changes are always shown; so is a user's service coming within claude-cli's reach (not one leaving it).
    if (c.service === undefined) return true;
    if (current.services[c.service] === undefined) return c.after !== undefined;
    const rendered = c.variable === undefined ? ours[c.service]?.[c.key] : (ours[c.service]?.environment as PlainMap | undefined)?.[c.variable];
    // claude-cli's own variables are the merge's to keep (an edit to one is a conflict); it holds no key to redirect.
    if (c.service === CLI_SERVICE && c.variable !== undefined && rendered !== undefined) return false;
    // A key that now reads exactly as cctl itself renders it (a teammate's newer cctl wrote it) widens nothing.
    return !isDeepStrictEqual(c.after, rendered);
  });
}

/** The guarded changes in the file on disk, read on its own (for a prompt before a task list starts). */
export function changesInFile(project: Project): GuardChange[] {
  if (!project.exists) return [];
  const file = (composeDocument(project)?.toJS({ maxAliasCount: MAX_ALIASES }) ?? {}) as PlainMap;
  const settings = resolveSettings({ stored: fromStored(file[SETTINGS_KEY], `${project.file} (${SETTINGS_KEY})`) });
  // Which keys cctl renders does not depend on the engine or the build hash.
  const rendered = renderOwned(settings, { project: project.name, startInterval: false, buildHash: '' });
  return pendingChanges(project, file, settings, rendered);
}

export function refuseChanges(project: Project, changes: GuardChange[]): CctlError {
  return new CctlError(
    `${project.file} was changed since the last "cctl init" or "cctl up" in ways that give claude-cli or the proxy more power, bring another service within claude-cli's reach, or send the team key elsewhere:\n${describeChanges(changes)}`,
    {
      hint:
        'Anything running in claude-cli can edit this file (it is in /workspace). If you made these changes, accept them: ' +
        'cctl init --accept-changes (or cctl up --accept-changes). If not, undo them (git diff shows them). Nothing was changed.',
    },
  );
}

/** Does this service look like one cctl wrote (its image, build folder or secret files)? */
function looksCctlMade(service: unknown): boolean {
  if (!isMap(service)) return false;
  const image = typeof service.image === 'string' ? service.image : '';
  const build = isMap(service.build) ? service.build.context : service.build;
  const envFiles = ([] as unknown[]).concat(service.env_file ?? []).map(String);
  return (
    /^cctl-.+:local$/.test(image) ||
    (typeof build === 'string' && /^\.?\/?\.cctl\//.test(build)) ||
    envFiles.some((f) => /(^|\/)(proxy|client)\.env$/.test(f))
  );
}

/**
 * Services cctl would write whose name the user's file already uses for a
 * service cctl never created. Those are the user's: never replaced, not even
 * with --force.
 */
export function serviceClashes(doc: Document.Parsed | undefined, ours: Owned, base: Owned | undefined): string[] {
  const services = doc?.toJS({ maxAliasCount: MAX_ALIASES })?.services as PlainMap | undefined;
  if (!isMap(services)) return [];
  return Object.keys(ours.services ?? {}).filter((name) => {
    const theirs = services[name];
    if (theirs === undefined || theirs === null) return false;
    if (base?.services?.[name] !== undefined || looksCctlMade(theirs)) return false;
    return !isDeepStrictEqual(theirs, ours.services![name]);
  });
}

export function refuseClash(project: Project, names: string[]): CctlError {
  const gateway = names.some((n) => n !== CLI_SERVICE);
  return new CctlError(
    `${project.file} already has a service named ${names.map((n) => `"${n}"`).join(' and ')} that cctl did not create. ` +
      'It is yours: cctl never changes or replaces a service it did not create.',
    {
      hint: gateway
        ? 'Give cctl\'s gateway another name: cctl init --set proxy-service=cctl-proxy (ANTHROPIC_BASE_URL, depends_on and the commands follow it).'
        : 'Rename your service: cctl needs the name claude-cli for its own.',
    },
  );
}

export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A build can take minutes, and claude-cli runs all the while: the file Compose
 * is about to read must still be the one init checked and wrote.
 */
export function assertFileUnchanged(project: Project, digest: string): void {
  let now = '';
  try {
    now = textDigest(readUtf8(project.file));
  } catch {
    // Unreadable now: not what init wrote either.
  }
  if (now !== digest) {
    throw new CctlError(`${project.file} changed while cctl up was running (after it was checked), so nothing was started.`, {
      hint: 'Anything in claude-cli can edit the file. Look at the change (git diff), then run "cctl up" again.',
    });
  }
}
