/**
 * `cctl init` as a function: settings in, compose file + assets + secrets
 * out. `cctl up` calls it too, to create the services or bring them current.
 */
import { join, resolve } from 'node:path';
import {
  caCertSource,
  ensureBuildContexts,
  readCaCert,
  relativeToProject,
  syncAssets,
  wantedAssets,
  type AssetChange,
} from '../project/assets.js';
import { renderOwned, type PlainMap, type RenderContext } from '../project/model.js';
import { describeConflicts, MAX_ALIASES, mergeOwned } from '../project/merge.js';
import { composeDocument, readStoredSettings, SETTINGS_KEY } from '../project/compose-file.js';
import { composeText } from '../project/compose-text.js';
import { compose } from '../engine/compose.js';
import { composeValidate } from './compose.js';
import { readInside, writeInside } from '../kernel/fs.js';
import { readBaseline, readLegacyOwned, writeBaseline } from '../project/baseline.js';
import { assertOutsideWorkspace, ensurePrivateDir } from '../project/private-dir.js';
import { refuseClash, serviceClashes, textDigest } from './guard.js';
import { describeTrustChanges, refuseTrustChanges, reviewTrust, type TrustInput, type TrustReview } from './trust-check.js';
import { writeTrust } from '../project/trust.js';
import { ensureSecrets, type SecretsResult } from '../project/secrets.js';
import { writeOnboardScript } from '../project/onboard.js';
import { withTeamParts, writeFragmentExample } from '../project/workbench.js';
import { type Settings } from '../project/settings.js';
import { checkConsistency, fromEnv, resolveSettings } from '../project/setting-layers.js';
import { legacyRenderings } from '../project/legacy-render.js';
import { writeMachineFile, type MachineFile } from './machine-file.js';
import { imageHashes, type ImageHashes } from './build.js';
import { ensureBuildCopy, syncBuildCopy } from './build-copy.js';
import { checkDevcontainer, syncDevcontainer, type DevcontainerSync } from './devcontainer.js';
import type { Project } from '../project/locate.js';

export interface InitResult {
  file: string;
  created: boolean;
  changed: boolean;
  touched: string[];
  assets: AssetChange[];
  /** Secret files written (mode 0600, outside the project). */
  secrets: string[];
  /** Files written for the team to keep in the repository: scripts/onboard.sh, the Dockerfile fragment example. */
  teamFiles: string[];
  /** Secret files an older cctl kept in .cctl/, moved to the private folder. */
  moved: string[];
  backup?: string;
  settings: Settings;
  /** claude-cli's build hash (the committed file's); `hashes` has each image's. */
  buildHash: string;
  hashes: ImageHashes;
  /** SHA-256 of the compose file as init left it: up checks it is still that just before Compose reads it. */
  fileDigest: string;
  /** This machine's compose file, written for the settings (ops/machine-file.ts). */
  machine: MachineFile;
  /** Things the user should know that are not errors (which CA source won, a host path replaced by the project's copy). */
  notes: string[];
  /** The editor's devcontainer.json, when the devcontainer setting is on (ops/devcontainer.ts). */
  devcontainer?: DevcontainerSync;
  /** Compose v2's config hash of each of cctl's services as the trust check accepted them (up starts only those). */
  configHashes?: Record<string, string[]>;
  /** The build sections the trust check accepted: what `compose build` reads, piped (ops/build.ts). */
  buildModel?: string;
}

export interface InitOptions {
  flags?: Partial<Settings>;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Guarded changes in the file are accepted without asking (--accept-changes). */
  acceptChanges?: boolean;
  /** Asks the user about guarded changes (a terminal prompt); without it they are refused. */
  confirm?: (changes: string) => Promise<boolean>;
  /** ssh-agent=on without an agent fails (up); without it, the per-machine file just has no socket (init, build). */
  strictAgent?: boolean;
}

/** Files init wrote for the repository (scripts/onboard.sh), for a task title: up and build never write them silently. */
export function wroteTeamFiles(result: Pick<InitResult, 'teamFiles'>): string {
  return result.teamFiles.length ? `; wrote ${result.teamFiles.map((f) => relativeToProject(process.cwd(), f)).join(', ')}` : '';
}

/** `compose config` on the merged text; skipped when no Compose is installed (init works without Docker). */
async function validateWithCompose(project: Project, text: string): Promise<void> {
  try {
    await compose();
  } catch {
    return;
  }
  await composeValidate(project, text);
}

/** What init will write, checked and not yet written: `cctl up` asks about its changes before its task list draws. */
export interface InitPlan {
  project: Project;
  options: InitOptions;
  env: NodeJS.ProcessEnv;
  text: string;
  settings: Settings;
  buildHash: string;
  hashes: ImageHashes;
  ours: ReturnType<typeof renderOwned>;
  wanted: Map<string, Buffer>;
  merged: ReturnType<typeof mergeOwned>;
  secrets: SecretsResult;
  /** The trust check's verdict on what Compose would run (ops/trust-check.ts), and what it was asked. */
  review: TrustReview;
  trust: TrustInput;
  /** This machine's file, written before the trust check resolved the project with it. */
  machine: MachineFile;
  notes: string[];
}

export async function planInit(project: Project, options: InitOptions = {}): Promise<InitPlan> {
  const env = options.env ?? process.env;
  // The compose file replaced by a link (to a file elsewhere of the user's) is named as one now, before its
  // text is compared: init would refuse to write through it anyway (kernel/inside.ts), and a diff of another
  // file's settings would hide what happened.
  readInside(project.dir, project.file);
  const text = composeText(project.file);
  const stored = readStoredSettings(project);
  const notes: string[] = [];
  const settings = resolveSettings({ flags: options.flags, env: caFromEnv(project, fromEnv(env), options.flags, stored, notes), stored });
  checkConsistency(settings);
  // The private folder (team key, baseline) must not be inside what claude-cli mounts.
  assertOutsideWorkspace(project.name, resolve(project.dir, settings.workspace), env);

  // The CA is stored as the project's copy, never as a host path (assets.ts, caCertSource).
  const ca = caCertSource(project.dir, settings['ca-cert']);
  settings['ca-cert'] = ca.stored;
  if (ca.note) notes.push(ca.note);
  const wanted = withTeamParts(wantedAssets(ca.pem), project.dir);
  // Everything a build depends on: the assets and the build settings.
  // One hash per image, each over its own inputs (build.ts): the committed file carries claude-cli's, the
  // per-machine file the gateway's.
  const hashes = imageHashes(wanted, settings);
  const buildHash = hashes.cli;
  // Nothing of this machine's: every teammate renders the same file (model.ts).
  const ctx: RenderContext = { project: project.name, buildHash };
  const ours = renderOwned(settings, ctx);
  const doc = text ? composeDocument(project) : undefined;
  const fileSettings = resolveSettings({ stored });
  const base = readBaseline(project, env)?.owned ?? readLegacyOwned(project);
  // A service of the user's own with a name cctl wants is theirs, even with --force.
  const clashes = serviceClashes(doc, ours, base);
  if (clashes.length > 0) throw refuseClash(project, clashes);
  const extension = { key: SETTINGS_KEY, value: { ...settings } as unknown as PlainMap };
  // Values an older cctl wrote into the committed file that now belong to this machine's file.
  const fileJs = (doc?.toJS({ maxAliasCount: MAX_ALIASES }) ?? {}) as PlainMap;
  const legacy = legacyRenderings(ours, fileSettings, fileJs);
  const merged = mergeOwned(text, project.file, { base, ours, extension, legacy }, options.force, doc);
  if (merged.conflicts.length > 0) throw describeConflicts(merged.conflicts, project.file);
  // The env files the file names must exist before Compose can resolve it. They are in the private
  // folder, outside the project; creating them gives nothing away.
  // An editor's file nobody accepted is refused now, before anything is written.
  checkDevcontainer(project, settings, { force: options.force, accept: options.acceptChanges, env });
  const secrets = ensureSecrets(project.dir, project.name, settings, env);
  ensureBuildContexts(project.dir, join(ensurePrivateDir(project.name, env), 'proxy'));
  ensureBuildCopy(project, env);
  // This machine's file (private folder, cctl's alone) is part of what Compose resolves: written now, after
  // the secrets it names exist, so both sides of the trust check read the same one. It holds nothing the
  // project decides, so writing it before the user's yes gives nothing away.
  const machine = await writeMachineFile(project, settings, hashes.gateway, env, { strictAgent: options.strictAgent === true });
  // What Compose would run with the merged text, against the rendering of these settings.
  const trust: TrustInput = { project, text: merged.text, settings, fileSettings, ctx, env };
  const review = await reviewTrust(trust);
  return { project, options, env, text, settings, buildHash, hashes, ours, wanted, merged, secrets, review, trust, machine, notes };
}

export async function initProject(project: Project, options: InitOptions = {}): Promise<InitResult> {
  return applyInit(await planInit(project, options));
}

/** Writes what the plan holds, after the trust check's changes were accepted (flag or prompt) or there were none. */
export async function applyInit(plan: InitPlan, accepted = false): Promise<InitResult> {
  const { project, options, env, text, settings, buildHash, ours, wanted, merged, review } = plan;
  const changes = review.changes;
  if (changes.length > 0 && !accepted && !options.acceptChanges && !(await options.confirm?.(describeTrustChanges(changes)))) {
    throw refuseTrustChanges(project, changes);
  }
  // Assets and secrets first: the compose file that refers to them comes last.
  // The gateway's build folder goes to the private folder (model.ts says why).
  const assets = syncAssets(project.dir, wanted, join(ensurePrivateDir(project.name, env), 'proxy'));
  // claude-cli is built from the very bytes hashed, copied where claude-cli cannot write (ops/build-copy.ts).
  syncBuildCopy(project, wanted, env);
  const fromSecrets = plan.secrets;
  const moved = fromSecrets.moved;
  const secrets = fromSecrets.written.filter((f) => f.endsWith('.env'));
  // .cctl/.gitignore, the onboarding script and the fragment example: files for the repository, reported as such.
  const teamFiles = [
    ...fromSecrets.written.filter((f) => !f.endsWith('.env')),
    writeOnboardScript(project.dir, settings),
    writeFragmentExample(project.dir),
  ].filter((f): f is string => f !== undefined);
  let backup: string | undefined;
  if (merged.changed) {
    // Compose's own verdict before the file is replaced (the trust check resolved it already when Compose is here).
    if (!review.resolved) await validateWithCompose(project, merged.text);
    if (options.force && project.exists) {
      backup = `${project.file}.bak`;
      // Read without following a link: a compose file linked to a file of the user's must not be copied into the workspace.
      const old = readInside(project.dir, project.file);
      if (old) writeInside(project.dir, backup, old);
    }
    // Never through a link: claude-cli may have replaced the file by one (kernel/inside.ts).
    writeInside(project.dir, project.file, merged.text);
  }
  // The merge base (cctl's own keys as written), and what the user accepted, both where claude-cli cannot write.
  writeBaseline(project, { owned: ours }, env);
  writeTrust(project, review.accepted, env);
  // The editor's file, after the compose file it names; an edit nobody accepted is refused here, before the machine file is remade.
  const devcontainer = syncDevcontainer(project, settings, { force: options.force, accept: options.acceptChanges, env });
  // A file init just wrote for the repository (scripts/onboard.sh) is one the host runs: bound read-only
  // from the first up on, so this machine's file is made again with it (written only if its text changed).
  const machine =
    teamFiles.length || devcontainer?.changed
      ? await writeMachineFile(project, settings, plan.hashes.gateway, env, { strictAgent: options.strictAgent === true })
      : plan.machine;
  const checked = machine.changed && machine !== plan.machine ? await checkedAgain(plan) : review;

  return {
    file: project.file,
    created: !project.exists,
    changed: merged.changed,
    touched: merged.touched,
    assets,
    secrets,
    teamFiles,
    moved,
    backup,
    settings,
    buildHash,
    hashes: plan.hashes,
    fileDigest: textDigest(merged.changed ? merged.text : text),
    machine,
    notes: plan.notes,
    devcontainer,
    configHashes: checked.configHashes,
    buildModel: checked.buildModel,
  };
}

/**
 * The machine file changed after the trust check resolved the project with it (a bind for a file init just
 * wrote): the config hashes `up` holds its containers to are those of a second resolution, which must find no
 * difference in what Compose would run that the user has not accepted by now (the trust store has them). The
 * settings and identity were decided by the first check, and init has just written them.
 */
async function checkedAgain(plan: InitPlan): Promise<TrustReview> {
  const again = await reviewTrust(plan.trust);
  const changes = again.changes.filter((c) => c.section === 'model' || c.section === 'reach');
  if (changes.length > 0) throw refuseTrustChanges(plan.project, changes);
  return again;
}

/**
 * The CA from CCTL_CA_CERT, unless something more specific names one. A flag beats the variable,
 * as for every setting. A CA the project already stores beats it too: an exported CCTL_CA_CERT
 * would otherwise replace, at every later `cctl up`, a CA chosen with `cctl init --ca-cert`.
 * Either way the user is told which one is used, never silently.
 */
function caFromEnv(
  project: Project,
  fromEnvironment: Partial<Settings>,
  flags: Partial<Settings> | undefined,
  stored: Partial<Settings>,
  notes: string[],
): Partial<Settings> {
  const envCa = fromEnvironment['ca-cert'];
  if (envCa === undefined) return fromEnvironment;
  const flagCa = flags?.['ca-cert'];
  if (flagCa !== undefined) {
    if (flagCa !== envCa) notes.push(`--ca-cert ${flagCa || '""'} is used, not CCTL_CA_CERT=${envCa}: a flag beats the environment.`);
    return fromEnvironment;
  }
  const storedCa = stored['ca-cert'];
  if (!storedCa) return fromEnvironment;
  const { ['ca-cert']: _unused, ...rest } = fromEnvironment;
  if (!samePem(project.dir, envCa, storedCa)) {
    notes.push(
      `CCTL_CA_CERT=${envCa} is not used: the project already has an extra CA (${storedCa}). To replace it: cctl init --ca-cert ${envCa}`,
    );
  }
  return rest;
}

function samePem(dir: string, a: string, b: string): boolean {
  try {
    const [x, y] = [readCaCert(dir, a), readCaCert(dir, b)];
    return x !== undefined && y !== undefined && x.equals(y);
  } catch {
    return false;
  }
}
