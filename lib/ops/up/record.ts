/**
 * The record of the last up that reached all-healthy (project/up-record.ts
 * keeps the file): what it was built from, the config-hash label of each
 * service's container, and the fingerprint of every input init and Compose
 * read. The short path (short-path.ts) compares the present with it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compose, type ComposeCommand } from '../../engine/compose.js';
import { configHashesByService, configHashLabels, removeContainers, startContainers } from '../../engine/created-containers.js';
import { CctlError } from '../../kernel/errors.js';
import { PACKAGE_ROOT } from '../../project/assets.js';
import { ASSETS_DIR } from '../../project/model.js';
import { ONBOARD_SCRIPT } from '../../project/onboard.js';
import { machineFilePath, privateDir } from '../../project/private-dir.js';
import { upFingerprint, writeUpRecord, type UpRecord } from '../../project/up-record.js';
import type { Project } from '../../project/locate.js';
import { composeEnv } from '../compose.js';
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
    // This machine's file, the second -f of every compose call.
    machineFilePath(project.name),
    ...record.extraInputs,
  ];
}

/**
 * The fingerprint of the present, to compare with the record's: besides
 * the files, which Compose (its version decides the config hash) and the
 * value of each variable the files may interpolate, in the environment
 * cctl gives Compose. Equal means Compose computes the configuration it did
 * then, without asking it (`config --hash` costs a Compose start).
 */
export function fingerprintNow(
  project: Project,
  record: Pick<UpRecord, 'extraInputs' | 'variables'>,
  engine: ComposeCommand,
  env = process.env,
): string | undefined {
  const values = composeEnv(env);
  const parts = [
    `compose ${engine.command.join(' ')} ${engine.version}`,
    ...(record.variables ?? []).map((v) => (values[v] === undefined ? `$${v} unset` : `$${v}=${values[v]}`)),
  ];
  return upFingerprint(project, roots(project, record), env, parts);
}

export type UpInputs = Pick<UpRecord, 'extraInputs' | 'variables'>;

/**
 * Just before `compose up`: what Compose will read, fingerprinted. On the short path (`record`) the start
 * skips the trust check on the strength of the record's fingerprint, so a file changed since the short
 * path compared it (claude-cli may be running: a start after one service died) is refused here; the next
 * up goes the full way. The machine file, when the short path rewrote it, is the one change allowed.
 */
export async function fingerprintBeforeStart(
  project: Project,
  settings: UpRecord['settings'],
  record: UpRecord | undefined,
  machine: { changed: boolean },
  checked?: CheckedInputs,
): Promise<{ inputs?: UpInputs; fingerprint?: string }> {
  // The full path: what the trust check read and init does not write must be as it was before the check.
  if (checked && inputsDigest(project, checked.inputs) !== checked.digest) throw changedDuringUp();
  const inputs = record?.variables ? { extraInputs: record.extraInputs, variables: record.variables } : await inputsOf(project, settings);
  const fingerprint = inputs && fingerprintNow(project, inputs, await compose());
  if (record && !machine.changed && fingerprint !== record.fingerprint) throw changedDuringUp();
  return { inputs, fingerprint };
}

/** The project's inputs that init never writes, hashed before the full path's trust check reads them. */
export interface CheckedInputs {
  inputs: UpInputs;
  digest: string;
}

/** `.env`, the files the compose file names and the values of the variables they use: what init never writes. */
function inputsDigest(project: Project, inputs: UpInputs, env = process.env): string {
  const values = composeEnv(env);
  const h = createHash('sha256');
  for (const file of [join(project.dir, '.env'), ...inputs.extraInputs]) {
    let bytes: Buffer | string;
    try {
      bytes = readFileSync(file);
    } catch {
      bytes = 'none';
    }
    h.update(file).update('\0').update(bytes).update('\0');
  }
  for (const v of inputs.variables ?? []) h.update(values[v] === undefined ? `$${v} unset\0` : `$${v}=${values[v]}\0`);
  return h.digest('hex');
}

/** Before the full path's trust check: the project-side inputs, hashed (fingerprintBeforeStart compares). */
export async function inputsBeforeCheck(project: Project): Promise<CheckedInputs | undefined> {
  const { composeInputs } = await import('../../project/compose-inputs.js');
  const found = composeInputs(project.file, join(project.dir, '.env'));
  if (!found) return undefined;
  const inputs = { extraInputs: found.files, variables: found.variables };
  return { inputs, digest: inputsDigest(project, inputs) };
}

/** The short path's expected config hashes: the labels the record keeps. */
export function recordedHashes(record: UpRecord | undefined): Record<string, string[]> | undefined {
  return record && Object.fromEntries(Object.entries(record.configHashes).map(([name, { label }]) => [name, [label]]));
}

/**
 * The start after `compose up --no-start`: each service's container carries a config hash of what was checked
 * (the trust check's model, or the record's), so Compose made it from the accepted inputs and not from a file
 * swapped in after the check read it; then each starts by id, side by side (one list, one start each, on the
 * engine's socket when it is local). Else the containers Compose just made from what no check saw are removed, and nothing starts.
 */
export async function startChecked(
  project: Project,
  expected: Record<string, readonly string[]>,
  services: readonly string[],
): Promise<void> {
  const created = await configHashesByService(project.name);
  const ok = (name: string) => {
    const c = created.get(name);
    return c !== undefined && (expected[name] ?? []).includes(c.hash);
  };
  if (!services.every(ok)) {
    // Made from what no check saw, and never started: removed, so nothing else starts it later.
    const stray = services.map((name) => created.get(name)).filter((c) => c !== undefined && c.state === 'created' && !ok(c.service));
    if (stray.length > 0) await removeContainers(stray.map((c) => c!.id)).catch(() => undefined);
    throw changedDuringUp();
  }
  // Side by side: claude-cli's start needs nothing from the gateway (project/model.ts), and one start takes
  // a second or more on a loaded machine; the health wait that follows waits for both.
  await Promise.all(services.map((name) => startContainers([created.get(name)!.id])));
}

function changedDuringUp(): CctlError {
  return new CctlError(
    'A file Compose reads (the compose file, .env, a file it includes or extends, .cctl/) changed while cctl up was running, after it was checked, so nothing was started.',
    {
      hint: 'Anything in claude-cli can edit the project. Look at the change (git status, git diff), then run "cctl up" again: it checks the files anew.',
    },
  );
}

/**
 * What the compose file makes Compose read (include, extends, env_file, variables), and the CA bundle: an
 * edit to one goes the full way, through the trust check. Loaded only after the stack is up: it parses
 * YAML, which the short path never loads.
 */
async function inputsOf(project: Project, settings: UpRecord['settings']): Promise<UpInputs | undefined> {
  const ca = settings['ca-cert'];
  const { composeInputs } = await import('../../project/compose-inputs.js');
  const inputs = composeInputs(project.file, join(project.dir, '.env'));
  return inputs && { extraInputs: [...(ca ? [resolve(project.dir, ca)] : []), ...inputs.files], variables: inputs.variables };
}

/**
 * After an up that reached all-healthy: remember what it saw, with the
 * config-hash labels of the containers the wait found healthy, and the
 * fingerprint taken just before `compose up` (fingerprintBeforeStart). No
 * record, so that the next up goes the full way through the trust check:
 * without labels, with a compose file whose inputs cannot be told without
 * Compose (an interpolated path), or when an input changed during the up
 * (claude-cli runs during the health wait: a record of the files as they are
 * now would accept an edit no trust check saw).
 */
export async function recordUp(
  project: Project,
  facts: Pick<UpRecord, 'buildHash' | 'gatewayBuildHash' | 'settings' | 'images' | 'startInterval'>,
  services: readonly ServiceState[],
  before: { inputs?: UpInputs; fingerprint?: string },
): Promise<void> {
  const containers = services.map((s) => s.container).filter((c): c is string => c !== undefined);
  const labels = await configHashLabels(containers).catch(() => undefined);
  if (!labels) return;
  const configHashes: UpRecord['configHashes'] = {};
  for (const { name } of services) {
    const label = labels.get(name);
    if (!label) return;
    configHashes[name] = { label };
  }
  const { inputs, fingerprint } = before;
  if (!inputs || !fingerprint || fingerprintNow(project, inputs, await compose()) !== fingerprint) return;
  writeUpRecord(project, { ...facts, extraInputs: inputs.extraInputs, variables: inputs.variables, configHashes, fingerprint });
}
