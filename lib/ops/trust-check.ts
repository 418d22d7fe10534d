/**
 * The trust check: before anything starts, what Compose will actually run
 * for cctl's services is compared with what cctl's own rendering of the
 * accepted settings resolves to, through the same Compose, with the same
 * files, project name, folder and environment as `up`. An allow-list: any
 * difference is shown and needs a yes. See project/resolved-model.ts for
 * what is compared, project/trust.ts for where the accepted state lives.
 *
 * Three parts:
 *   1. identity: the project name and compose file the user accepted for this
 *      folder (a .env that renames it, another compose file, one nearer the
 *      working folder);
 *   2. settings: x-cctl as the file says it, against the accepted settings;
 *   3. the resolved model: cctl's subtree against the rendering's, and the
 *      user's services in reach against their accepted copies.
 * And a refusal without a question: a project .env that sets one of cctl's
 * own variables (or a COMPOSE_* input). cctl sets those itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { compose, type ComposeCommand } from '../engine/compose.js';
import { jsonUnprintable, resolvedConfig } from '../engine/compose-config.js';
import { printedJson, type ComposeModel as ResolvedModel } from '../engine/compose-client.js';
import { serviceConfigHashes } from '../engine/compose-hash.js';
import { CctlError } from '../kernel/errors.js';
import { parseDotEnv, type Project } from '../project/locate.js';
import { composeText } from '../project/compose-text.js';
import { buildHashInFile, storedSettings } from '../project/compose-file.js';
import { renderOwned, type Plain, type PlainMap, type RenderContext } from '../project/model.js';
import { buildOnly, digest, reach, storedCopy, subtree } from '../project/resolved-model.js';
import { describeModelChanges, diffModels, type ModelChange } from '../project/model-diff.js';
import { refusedDotEnvNames, variablesOf } from '../project/model-variables.js';
import { findTrust, fileInRecord, realDir, type TrustRecord } from '../project/trust.js';
import { privateDir } from '../project/private-dir.js';
import type { Settings } from '../project/settings.js';
import { claudeServices } from './stack.js';
import { composeEnv, composeRejects, invocationFor } from './compose.js';

export interface TrustChange extends ModelChange {
  section: 'identity' | 'settings' | 'model' | 'reach';
}

export interface TrustReview {
  changes: TrustChange[];
  /** What the trust store gets when the run goes on (nothing changed, or the user said yes). */
  accepted: Pick<TrustRecord, 'settings' | 'acceptedChanges' | 'reach'>;
  /** False when no Compose could be asked (init works without Docker): the model was not compared. */
  resolved: boolean;
  /**
   * Compose v2's config hash of each of cctl's services as this check resolved them (candidates per service,
   * engine/compose-hash.ts): `up` creates, compares its containers' labels with these, then starts them, so
   * a file changed after this check read it never runs. Undefined on Compose v1 and for a model Compose
   * could print only as YAML.
   */
  configHashes?: Record<string, string[]>;
  /** The build sections of cctl's services as this check resolved them, for `compose build -f -` (resolved-model.ts buildOnly). */
  buildModel?: string;
}

export interface TrustInput {
  project: Project;
  /** The compose file's text as Compose will read it (init's merged text); undefined: the file on disk. */
  text?: string;
  /** The settings the services are rendered with now (flags and the shell applied). */
  settings: Settings;
  /** The settings the file itself holds (x-cctl over the defaults): what the project says. */
  fileSettings: Settings;
  ctx: RenderContext;
  env?: NodeJS.ProcessEnv;
}

/**
 * The variables cctl's committed rendering interpolates (from settings alone: the render context adds
 * none). Only ${COMPOSE_PROJECT_NAME} today: everything that differs per machine or user is written
 * literally into the per-machine file (project/machine-file.ts), which interpolates nothing. Scanned
 * rather than listed, so a variable a later rendering adds is refused in .env without a code change.
 */
export function interpolatedVariables(s: Settings): string[] {
  return variablesOf(renderOwned(s, { project: '', buildHash: '' })).interpolated;
}

function readDotEnv(project: Project): Map<string, string> {
  try {
    return parseDotEnv(readFileSync(join(project.dir, '.env'), 'utf8'));
  } catch {
    return new Map();
  }
}

/** Refuses a project .env that sets one of cctl's variables or a COMPOSE_* input (no question: cctl sets these). */
export function assertDotEnvClean(project: Project, settings: Settings): void {
  const names = refusedDotEnvNames(readDotEnv(project).keys(), { interpolated: interpolatedVariables(settings), passedThrough: [] });
  if (names.length === 0) return;
  throw new CctlError(
    `${join(project.dir, '.env')} sets ${names.join(', ')}: ${names.length === 1 ? 'a variable' : 'variables'} cctl sets itself when it runs Compose, or that choose Compose's files, profiles or project name. ` +
      "Compose would read them into cctl's services, and anything in claude-cli can edit that file. Nothing was started.",
    {
      hint:
        `Remove ${names.length === 1 ? 'that line' : 'those lines'} from .env. Git identity has settings of its own (cctl init --set git-name=... --set git-email=...); ` +
        'name the project with "name:" in the compose file or -p; cctl passes the compose file and the claude profile itself.',
    },
  );
}

/** The settings the project's history gives: this folder's record, the one above, the old name-keyed baseline, or the file's own. */
function legacySettings(project: Project, env: NodeJS.ProcessEnv): PlainMap | undefined {
  try {
    const old = JSON.parse(readFileSync(join(privateDir(project.name, env), 'state.json'), 'utf8')) as {
      file?: string;
      guard?: { settings?: PlainMap };
    };
    return old.file === project.file ? old.guard?.settings : undefined;
  } catch {
    return undefined;
  }
}

function identityChanges(project: Project, found: ReturnType<typeof findTrust>): TrustChange[] {
  const out: TrustChange[] = [];
  const change = (path: string, before: string, after: string) =>
    out.push({ section: 'identity', path, kind: 'changed', before, after, narrowing: false });
  if (found.record) {
    if (found.record.name !== project.name) change('project name', found.record.name, project.name);
    if (found.record.file !== fileInRecord(project)) change('compose file', found.record.file, fileInRecord(project));
  } else if (found.above) {
    change('project folder', join(found.above.dir, found.above.file), join(realDir(project.dir), fileInRecord(project)));
  }
  return out;
}

function settingsChanges(base: PlainMap, now: Settings): TrustChange[] {
  const current = now as unknown as PlainMap;
  // Only settings both know: one new to this cctl version is not an edit.
  const common = Object.keys(base).filter((k) => k in current);
  const pick = (m: PlainMap) => Object.fromEntries(common.map((k) => [k, m[k]!]));
  return diffModels({ 'x-cctl': pick(base) }, { 'x-cctl': pick(current) }).map((c) => ({ ...c, section: 'settings' as const }));
}

async function composeOrUndefined(): Promise<ComposeCommand | undefined> {
  try {
    return await compose();
  } catch {
    return undefined;
  }
}

/** Both sides of the comparison, and the whole project's model (for the user's services in reach). */
interface Resolved {
  actual: ResolvedModel;
  expected: ResolvedModel;
  whole: ResolvedModel;
}

/**
 * The project's model and the rendering's, resolved side by side. The
 * rendering is read with no .env at all: whatever the project's .env does to
 * cctl's services then shows as a difference.
 *
 * Compose 2.26 cannot print a model as JSON when any service has a `build.ssh` entry with a path, and
 * without the JSON there is no config hash for `up` to hold the containers to (engine/compose-hash.ts).
 * A service of the user's must not switch that check off for cctl's: then cctl's services are resolved
 * alone (`config --format json claude-cli proxy`) on both sides, and the whole model, for the user's
 * services in reach, as YAML. cctl never renders build.ssh, so one on cctl's own services is refused
 * outright: accepting it would start containers that no hash check covers.
 */
async function resolveBoth(engine: ComposeCommand, input: TrustInput, env: NodeJS.ProcessEnv, owned: readonly string[]): Promise<Resolved> {
  const { project } = input;
  // Exactly the invocation `up` makes (its files, name, folder, profile and environment), verb aside.
  const inv = invocationFor(engine, project, env);
  const rendered = JSON.stringify(renderOwned(input.settings, input.ctx));
  // The text goes in on stdin only when it is not what the file already holds: Compose v1 cannot follow a
  // stdin file's `extends` (it has no file name to resolve it against), and reads the file itself fine.
  const piped = input.text === undefined || input.text === composeText(project.file) ? {} : { input: input.text };
  const rejects = (error: unknown) => {
    throw input.text === undefined || jsonUnprintable(error) ? error : composeRejects(project, error);
  };
  const both = (services?: readonly string[]) =>
    Promise.all([
      resolvedConfig(inv, { ...piped, services }).catch(rejects),
      resolvedConfig(inv, { input: rendered, withoutDotEnv: true, services }),
    ]);
  try {
    const [actual, expected] = await both();
    return { actual, expected, whole: actual };
  } catch (error) {
    if (!jsonUnprintable(error)) throw error;
  }
  const [[actual, expected], whole] = await Promise.all([
    both(owned).catch((error: unknown) => {
      if (!jsonUnprintable(error)) throw error;
      throw new CctlError(
        `${project.file} gives cctl's services (${owned.join(', ')}) a build.ssh entry, which cctl never writes and cannot check at the start, so nothing was started.`,
        {
          hint: 'Remove the ssh key from their build section (your own services may keep theirs). An SSH agent for git inside claude-cli is the ssh-agent setting: cctl init --set ssh-agent=on',
        },
      );
    }),
    resolvedConfig(inv, { ...piped, yaml: true }).catch((error: unknown) => {
      throw input.text === undefined ? error : composeRejects(project, error);
    }),
  ]);
  return { actual, expected, whole };
}

export async function reviewTrust(input: TrustInput): Promise<TrustReview> {
  const env = input.env ?? process.env;
  const { project, settings } = input;
  assertDotEnvClean(project, settings);
  const found = findTrust(project, env);
  const trusted = found.record ?? found.above;
  const changes: TrustChange[] = identityChanges(project, found);
  const baseSettings = trusted?.settings ?? legacySettings(project, env) ?? (input.fileSettings as unknown as PlainMap);
  changes.push(...settingsChanges(baseSettings, input.fileSettings));
  const accepted: TrustReview['accepted'] = {
    settings: settings as unknown as PlainMap,
    reach: trusted?.reach,
    acceptedChanges: trusted?.acceptedChanges,
  };

  const engine = await composeOrUndefined();
  if (!engine) return { changes, accepted, resolved: false };
  const owned = claudeServices(settings);
  const { actual, expected, whole } = await resolveBoth(engine, input, composeEnv(env), owned);
  const [mine, theirs] = [subtree(actual as PlainMap, owned), subtree(expected as PlainMap, owned)];
  // Each difference from the rendering, by digest: those accepted before are not asked again.
  const differences = isDeepStrictEqual(mine, theirs) ? [] : diffModels(theirs, mine);
  const sums = differences.map((c) => digest(c as unknown as PlainMap));
  const known = new Set(trusted?.acceptedChanges ?? []);
  changes.push(...differences.filter((_, i) => !known.has(sums[i]!)).map((c) => ({ ...c, section: 'model' as const })));
  accepted.acceptedChanges = sums.length ? sums : undefined;
  const services = (whole as PlainMap).services as { [name: string]: Plain };
  const reachNow = Object.fromEntries(reach(whole as PlainMap, owned, project.name).map((name) => [name, storedCopy(services[name]!)]));
  accepted.reach = reachNow;
  const reachBefore = trusted?.reach ?? {};
  changes.push(
    ...diffModels({ services: reachBefore } as PlainMap, { services: reachNow } as PlainMap)
      .filter((c) => !(c.kind === 'removed' && c.path.split('.').length === 2))
      .map((c) => ({ ...c, section: 'reach' as const })),
  );
  const buildModel = buildOnly(actual as PlainMap, owned);
  return { changes, accepted, resolved: true, configHashes: configHashesOf(engine, actual, owned), buildModel };
}

/** The config hashes Compose v2 will label cctl's services with, from the very text this check compared. */
function configHashesOf(engine: ComposeCommand, model: ResolvedModel, owned: readonly string[]): Record<string, string[]> | undefined {
  const text = engine.flavour === 'v1' ? undefined : printedJson(model);
  if (text === undefined) return undefined;
  const hashes = serviceConfigHashes(text, owned);
  return owned.every((name) => hashes[name]) ? hashes : undefined;
}

const SECTION_TITLES: Record<TrustChange['section'], string> = {
  identity: 'Which project this is (the accepted one is kept outside the project, by its folder):',
  settings: 'Settings in the compose file (x-cctl), against the accepted ones:',
  model: "What Compose would run for cctl's services, against cctl's own rendering of the settings:",
  reach: "Your services that share a network, namespace, volume, secret or config with cctl's, against their accepted copies:",
};

export function describeTrustChanges(changes: readonly TrustChange[]): string {
  const out: string[] = [];
  for (const section of Object.keys(SECTION_TITLES) as Array<TrustChange['section']>) {
    const mine = changes.filter((c) => c.section === section);
    if (mine.length) out.push(SECTION_TITLES[section], describeModelChanges(mine));
  }
  const narrower = changes.length > 0 && changes.every((c) => c.narrowing);
  if (narrower) out.push('Each of these gives less than before (narrower); it is still a change that needs your yes.');
  return out.join('\n');
}

export function refuseTrustChanges(project: Project, changes: readonly TrustChange[]): CctlError {
  return new CctlError(
    `What would run for ${project.file} differs from what you accepted (+ added, - removed, ~ changed), so nothing was started:\n${describeTrustChanges(changes)}`,
    {
      hint:
        'Anything running in claude-cli can edit the project (the compose file, .env, files it includes or extends). If you made these changes, accept them: ' +
        'cctl up --accept-changes (or cctl init --accept-changes), or answer yes at the prompt in a terminal. If not, undo them (git diff shows them).',
    },
  );
}

/**
 * The check on the files as they are on disk, for `doctor`: the settings
 * the file holds, rendered as the file was (its build hash), with this
 * machine's file as the last up wrote it, against what Compose would run now.
 */
export async function reviewFileOnDisk(project: Project, env: NodeJS.ProcessEnv = process.env): Promise<TrustReview> {
  const settings = storedSettings(project);
  const ctx: RenderContext = { project: project.name, buildHash: buildHashInFile(project) };
  return reviewTrust({ project, settings, fileSettings: settings, ctx, env });
}
