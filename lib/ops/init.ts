/**
 * `cctl init` as a function: settings in, compose file + assets + secrets
 * out. `cctl up` calls it too, to create the services or bring them current.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetsHash, readCaCert, syncAssets, wantedAssets, type AssetChange } from '../project/assets.js';
import { ASSETS_DIR, renderOwned, type PlainMap } from '../project/model.js';
import { describeConflicts, mergeOwned, type Owned } from '../project/merge.js';
import { readStoredSettings, SETTINGS_KEY } from '../project/compose-file.js';
import { compareVersions, compose, parseVersion } from '../engine/compose.js';
import { writeFileAtomic } from '../kernel/fs.js';
import { apiVersion, daemonInfo } from '../engine/daemon.js';
import { ensureSecrets } from '../project/secrets.js';
import { writeOnboardScript } from '../project/onboard.js';
import { withTeamParts, writeFragmentExample } from '../project/workbench.js';
import { checkConsistency, fromEnv, resolveSettings, type Settings } from '../project/settings.js';
import type { Project } from '../project/locate.js';

const STATE_FILE = join(ASSETS_DIR, 'state.json');

export interface InitResult {
  file: string;
  created: boolean;
  changed: boolean;
  touched: string[];
  assets: AssetChange[];
  secrets: string[];
  backup?: string;
  settings: Settings;
  buildHash: string;
}

export interface InitOptions {
  flags?: Partial<Settings>;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Engine 25 (API 1.44) runs start_interval; Compose v1 rejects the key, v2 knows it from 2.20.2. */
export async function supportsStartInterval(): Promise<boolean> {
  try {
    const [engine, daemon] = await Promise.all([compose(), daemonInfo()]);
    const composeOk = engine.flavour !== 'v1' && compareVersions(parseVersion(engine.version)!, [2, 20, 2]) >= 0;
    return composeOk && compareVersions(apiVersion(daemon), [1, 44]) >= 0;
  } catch {
    // No daemon or no compose: write the form every engine accepts.
    return false;
  }
}

function readState(project: Project): Owned | undefined {
  try {
    const state = JSON.parse(readFileSync(join(project.dir, STATE_FILE), 'utf8')) as { file?: string; owned?: Owned };
    return state.file === project.file ? state.owned : undefined;
  } catch {
    return undefined;
  }
}

function buildSettings(s: Settings) {
  return [s['base-image'], s['claude-version'], s['ccusage-version'], s['monitor-version'], s.monitor, s.packages];
}

export async function initProject(project: Project, options: InitOptions = {}): Promise<InitResult> {
  const env = options.env ?? process.env;
  const text = project.exists ? readFileSync(project.file, 'utf8') : '';
  const stored = readStoredSettings(project);
  const settings = resolveSettings({ flags: options.flags, env: fromEnv(env), stored });
  checkConsistency(settings);

  const wanted = withTeamParts(wantedAssets(readCaCert(project.dir, settings['ca-cert'])), project.dir);
  // Everything a build depends on: the assets and the build settings.
  const buildHash = assetsHash(
    new Map([...wanted, ['settings', Buffer.from(JSON.stringify(buildSettings(settings)))]]),
  );
  const ours = renderOwned(settings, { project: project.name, startInterval: await supportsStartInterval(), buildHash });
  const extension = { key: SETTINGS_KEY, value: { ...settings } as unknown as PlainMap };
  const merged = mergeOwned(text, project.file, { base: readState(project), ours, extension }, options.force);
  if (merged.conflicts.length > 0) throw describeConflicts(merged.conflicts, project.file);

  // Assets and secrets first: the compose file that refers to them comes last.
  const assets = syncAssets(project.dir, wanted);
  const secrets = ensureSecrets(project.dir, settings, env);
  // The team's onboarding script (scripts/onboard.sh), reported with the other files init writes.
  const onboardScript = writeOnboardScript(project.dir, settings);
  if (onboardScript) secrets.push(onboardScript);
  const fragmentExample = writeFragmentExample(project.dir);
  if (fragmentExample) secrets.push(fragmentExample);
  let backup: string | undefined;
  if (merged.changed) {
    if (options.force && project.exists) {
      backup = `${project.file}.bak`;
      copyFileSync(project.file, backup);
    }
    writeFileAtomic(project.file, merged.text);
  }
  const state = `${JSON.stringify({ file: project.file, owned: ours }, null, 2)}\n`;
  const statePath = join(project.dir, STATE_FILE);
  if (!existsSync(statePath) || readFileSync(statePath, 'utf8') !== state) writeFileAtomic(statePath, state);

  return { file: project.file, created: !project.exists, changed: merged.changed, touched: merged.touched, assets, secrets, backup, settings, buildHash };
}
