/**
 * The record of the last up that reached all-healthy (project/up-record.ts
 * keeps the file): what it was built from, Compose's hash of each service's
 * configuration, and the fingerprint of every input init reads. The short
 * path (short-path.ts) compares the present with it.
 */
import { join, resolve } from 'node:path';
import { configHashes } from '../../engine/compose-client.js';
import { configHashLabels } from '../../engine/containers.js';
import { PACKAGE_ROOT } from '../../project/assets.js';
import { ASSETS_DIR } from '../../project/model.js';
import { ONBOARD_SCRIPT } from '../../project/onboard.js';
import { privateDir } from '../../project/private-dir.js';
import { upFingerprint, writeUpRecord, type UpRecord } from '../../project/up-record.js';
import type { Project } from '../../project/locate.js';
import { projectInvocation } from '../compose.js';
import type { ServiceState } from '../stack.js';

/** What the fingerprint walks besides the compose file: cctl's image files and what init writes in the project. */
export function roots(project: Project, record: Pick<UpRecord, 'extraInputs'>): string[] {
  return [
    join(PACKAGE_ROOT, 'package.json'),
    join(PACKAGE_ROOT, 'docker'),
    join(PACKAGE_ROOT, 'dist', 'gateway'),
    join(project.dir, ASSETS_DIR),
    join(project.dir, ONBOARD_SCRIPT),
    // Compose reads it for interpolation, and so does the project-name lookup.
    join(project.dir, '.env'),
    // The secrets init creates when missing (the compose file names them as env files).
    join(privateDir(project.name), 'proxy.env'),
    join(privateDir(project.name), 'client.env'),
    ...record.extraInputs,
  ];
}

/** Compose's own hash of each service's configuration, as `up` computes it with `env` (the machine file's). */
export async function composeHashes(project: Project, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  return configHashes(await projectInvocation(project, env));
}

/**
 * After an up that reached all-healthy: remember what it saw. `hashes` is
 * composeHashes(), started while the health wait ran; the labels come from
 * the containers the wait found healthy. Without either, no record: the next
 * up goes the full way.
 */
export async function recordUp(
  project: Project,
  facts: Pick<UpRecord, 'buildHash' | 'settings' | 'images' | 'startInterval'>,
  hashes: Promise<Map<string, string>>,
  services: readonly ServiceState[],
): Promise<void> {
  const containers = services.map((s) => s.container).filter((c): c is string => c !== undefined);
  const [config, labels] = await Promise.all([hashes.catch(() => undefined), configHashLabels(containers).catch(() => undefined)]);
  if (!config || !labels) return;
  const configHashes: UpRecord['configHashes'] = {};
  for (const { name } of services) {
    const now = config.get(name);
    const label = labels.get(name);
    if (!now || !label) return;
    configHashes[name] = { config: now, label };
  }
  const ca = facts.settings['ca-cert'];
  // Files the compose file makes Compose read (include, extends, env_file): an edit to one goes the full way,
  // through the trust check. Loaded here, after the stack is up: it parses YAML, which the short path never loads.
  const { referencedFiles } = await import('../../project/compose-inputs.js');
  const extraInputs = [...(ca ? [resolve(project.dir, ca)] : []), ...referencedFiles(project.file)];
  const fingerprint = upFingerprint(project, roots(project, { extraInputs }));
  if (fingerprint) writeUpRecord(project, { ...facts, extraInputs, configHashes, fingerprint });
}

