/**
 * `cctl init` as a function: settings in, compose file + assets + secrets
 * out. `cctl up` calls it too, to create the services or bring them current.
 */
import { join, resolve } from 'node:path';
import { assetsHash, ensureBuildContexts, readCaCert, relativeToProject, syncAssets, wantedAssets, type AssetChange } from '../project/assets.js';
import { renderOwned, type PlainMap, type RenderContext } from '../project/model.js';
import { describeConflicts, mergeOwned } from '../project/merge.js';
import { composeDocument, readStoredSettings, SETTINGS_KEY } from '../project/compose-file.js';
import { composeText } from '../project/compose-text.js';
import { compareVersions, compose, parseVersion } from '../engine/compose.js';
import { composeValidate } from './compose.js';
import { readInside, writeInside } from '../kernel/fs.js';
import { readBaseline, readLegacyOwned, writeBaseline } from '../project/baseline.js';
import { assertOutsideWorkspace, ensurePrivateDir } from '../project/private-dir.js';
import { refuseClash, serviceClashes, textDigest } from './guard.js';
import { describeTrustChanges, refuseTrustChanges, reviewTrust, type TrustReview } from './trust-check.js';
import { writeTrust } from '../project/trust.js';
import { apiVersion, daemonInfo } from '../engine/daemon.js';
import { ensureSecrets, type SecretsResult } from '../project/secrets.js';
import { writeOnboardScript } from '../project/onboard.js';
import { withTeamParts, writeFragmentExample } from '../project/workbench.js';
import { checkConsistency, fromEnv, resolveSettings, type Settings } from '../project/settings.js';
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
  buildHash: string;
  /** SHA-256 of the compose file as init left it: up checks it is still that just before Compose reads it. */
  fileDigest: string;
}

export interface InitOptions {
  flags?: Partial<Settings>;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Guarded changes in the file are accepted without asking (--accept-changes). */
  acceptChanges?: boolean;
  /** Asks the user about guarded changes (a terminal prompt); without it they are refused. */
  confirm?: (changes: string) => Promise<boolean>;
}

/** Engine 25 (API 1.44) runs start_interval; Compose v1 rejects the key, v2 knows it from 2.20.2. */
async function supportsStartInterval(): Promise<boolean> {
  try {
    const [engine, daemon] = await Promise.all([compose(), daemonInfo()]);
    const composeOk = engine.flavour !== 'v1' && compareVersions(parseVersion(engine.version)!, [2, 20, 2]) >= 0;
    return composeOk && compareVersions(apiVersion(daemon), [1, 44]) >= 0;
  } catch {
    // No daemon or no compose: write the form every engine accepts.
    return false;
  }
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

function buildSettings(s: Settings) {
  return [s['base-image'], s['claude-version'], s['ccusage-version'], s['monitor-version'], s.monitor, s.packages];
}

/** What init will write, checked and not yet written: `cctl up` asks about its changes before its task list draws. */
export interface InitPlan {
  project: Project;
  options: InitOptions;
  env: NodeJS.ProcessEnv;
  text: string;
  settings: Settings;
  buildHash: string;
  ours: ReturnType<typeof renderOwned>;
  wanted: Map<string, Buffer>;
  merged: ReturnType<typeof mergeOwned>;
  secrets: SecretsResult;
  /** The trust check's verdict on what Compose would run (ops/trust-check.ts). */
  review: TrustReview;
}

export async function planInit(project: Project, options: InitOptions = {}): Promise<InitPlan> {
  const env = options.env ?? process.env;
  const text = composeText(project.file);
  const stored = readStoredSettings(project);
  const settings = resolveSettings({ flags: options.flags, env: fromEnv(env), stored });
  checkConsistency(settings);
  // The private folder (team key, baseline) must not be inside what claude-cli mounts.
  assertOutsideWorkspace(project.name, resolve(project.dir, settings.workspace), env);

  const wanted = withTeamParts(wantedAssets(readCaCert(project.dir, settings['ca-cert'])), project.dir);
  // Everything a build depends on: the assets and the build settings.
  const buildHash = assetsHash(
    new Map([...wanted, ['settings', Buffer.from(JSON.stringify(buildSettings(settings)))]]),
  );
  const ctx: RenderContext = { project: project.name, startInterval: await supportsStartInterval(), buildHash };
  const ours = renderOwned(settings, ctx);
  const doc = text ? composeDocument(project) : undefined;
  const fileSettings = resolveSettings({ stored });
  const base = readBaseline(project, env)?.owned ?? readLegacyOwned(project);
  // A service of the user's own with a name cctl wants is theirs, even with --force.
  const clashes = serviceClashes(doc, ours, base);
  if (clashes.length > 0) throw refuseClash(project, clashes);
  const extension = { key: SETTINGS_KEY, value: { ...settings } as unknown as PlainMap };
  const merged = mergeOwned(text, project.file, { base, ours, extension }, options.force, doc);
  if (merged.conflicts.length > 0) throw describeConflicts(merged.conflicts, project.file);
  // The env files the file names must exist before Compose can resolve it. They are in the private
  // folder, outside the project; creating them gives nothing away.
  const secrets = ensureSecrets(project.dir, project.name, settings, env);
  ensureBuildContexts(project.dir, join(ensurePrivateDir(project.name, env), 'proxy'));
  // What Compose would run with the merged text, against the rendering of these settings.
  const review = await reviewTrust({ project, text: merged.text, settings, fileSettings, ctx, env });
  return { project, options, env, text, settings, buildHash, ours, wanted, merged, secrets, review };
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
  const fromSecrets = plan.secrets;
  const moved = fromSecrets.moved;
  const secrets = fromSecrets.written.filter((f) => f.endsWith('.env'));
  // .cctl/.gitignore, the onboarding script and the fragment example: files for the repository, reported as such.
  const teamFiles = [...fromSecrets.written.filter((f) => !f.endsWith('.env')), writeOnboardScript(project.dir, settings), writeFragmentExample(project.dir)].filter(
    (f): f is string => f !== undefined,
  );
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

  return { file: project.file, created: !project.exists, changed: merged.changed, touched: merged.touched, assets, secrets, teamFiles, moved, backup, settings, buildHash, fileDigest: textDigest(merged.changed ? merged.text : text) };
}
