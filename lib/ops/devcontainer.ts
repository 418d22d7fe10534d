/**
 * The editor's `.devcontainer/devcontainer.json` (project/devcontainer.ts says
 * what is in it), kept in step like the compose file: init and up render
 * cctl's keys into it when the `devcontainer` setting is on, and the version
 * a human accepted is kept in the private folder, where claude-cli cannot
 * write. `up` refuses a file that differs from it until a human accepts
 * (a yes at a terminal, or --accept-changes), and `doctor` names the
 * difference: the editor runs `initializeCommand` on the host.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CctlError } from '../kernel/errors.js';
import { readInside, writeFileAtomic, writeInside } from '../kernel/fs.js';
import type { Project } from '../project/locate.js';
import { ensurePrivateDir, privateDir } from '../project/private-dir.js';
import {
  DEVCONTAINER_DIR,
  DEVCONTAINER_FILE,
  describeDevcontainerChanges,
  devcontainerChanges,
  devcontainerPath,
  devcontainerText,
  mergeDevcontainer,
  parseDevcontainer,
  renderDevcontainer,
  type DevcontainerChange,
  type JsonMap,
} from '../project/devcontainer.js';
import type { Settings } from '../project/settings.js';
import type { MachineCheck } from './machine-checks.js';
import { acceptCctlWrite, pathChanges } from './protected.js';

const RECORD = 'devcontainer.accepted.json';

/** The accepted version: its text (null: accepted as absent). Undefined when cctl never kept the file. */
interface AcceptedDevcontainer {
  text: string | null;
}

export function readAcceptedDevcontainer(project: Project, env: NodeJS.ProcessEnv = process.env): AcceptedDevcontainer | undefined {
  try {
    return JSON.parse(readFileSync(join(privateDir(project.name, env), RECORD), 'utf8')) as AcceptedDevcontainer;
  } catch {
    return undefined;
  }
}

function writeAcceptedDevcontainer(project: Project, text: string | undefined, env: NodeJS.ProcessEnv): void {
  writeFileAtomic(join(ensurePrivateDir(project.name, env), RECORD), `${JSON.stringify({ text: text ?? null })}\n`, 0o600);
}

/** The file as it is now (never through a link: readInside names one). */
function currentText(project: Project): string | undefined {
  return readInside(project.dir, devcontainerPath(project.dir))?.toString('utf8');
}

/** What changed in devcontainer.json since the accepted version; nothing when cctl does not keep it. */
export function pendingDevcontainerChanges(project: Project, env: NodeJS.ProcessEnv = process.env): DevcontainerChange[] {
  const accepted = readAcceptedDevcontainer(project, env);
  if (!accepted) return [];
  return devcontainerChanges(accepted.text ?? undefined, currentText(project));
}

/** A human accepted the file as it is now (--accept-changes, or a yes at a terminal). */
export function acceptDevcontainer(project: Project, env: NodeJS.ProcessEnv = process.env): void {
  writeAcceptedDevcontainer(project, currentText(project), env);
}

export function refuseDevcontainerChanges(changes: readonly DevcontainerChange[]): CctlError {
  return new CctlError(describeDevcontainerChanges(DEVCONTAINER_FILE, changes), {
    hint:
      'Anything in claude-cli could have written it while it was writable there; your editor runs initializeCommand on this machine when it opens the folder. ' +
      `Read it (cat ${DEVCONTAINER_FILE}) before opening the folder in the editor. If you made the change, accept it: cctl up --accept-changes. Nothing was started.`,
  });
}

export interface DevcontainerSync {
  file: string;
  changed: boolean;
  backup?: string;
}

/**
 * Writes cctl's keys into devcontainer.json (init, and up's init). A file that differs from the accepted
 * version is refused unless accepted or forced: init never writes over an edit nobody has looked at.
 * With the setting off, cctl stops keeping the file (it stays as it is; only the protected-path watch remains).
 */
export function syncDevcontainer(project: Project, settings: Settings, options: SyncOptions): DevcontainerSync | undefined {
  const env = options.env ?? process.env;
  if (!settings.devcontainer) {
    rmSync(join(privateDir(project.name, env), RECORD), { force: true });
    return undefined;
  }
  const { text, doc, foreign } = checkDevcontainer(project, settings, options)!;
  const file = devcontainerPath(project.dir);
  const ours = renderDevcontainer({ projectDir: project.dir, composeFile: project.file, name: project.name, settings });
  const next = devcontainerText(mergeDevcontainer(doc, ours));
  let backup: string | undefined;
  if (next !== text) {
    // Checked before the write: a change from inside that is pending stays named by the next up.
    const pending = pathChanges(project, env).changes.some((c) => c.path === DEVCONTAINER_DIR);
    if (text !== undefined && foreign) {
      backup = `${file}.bak`;
      writeInside(project.dir, backup, text);
    }
    writeInside(project.dir, file, next);
    if (!pending && !backup) acceptCctlWrite(project, DEVCONTAINER_DIR, env);
  }
  writeAcceptedDevcontainer(project, next, env);
  return { file, changed: next !== text, backup };
}

interface SyncOptions {
  force?: boolean;
  accept?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** init's plan: refuses (before anything is written) a devcontainer.json that nobody accepted and cctl would write over. */
export function checkDevcontainer(
  project: Project,
  settings: Pick<Settings, 'devcontainer'>,
  options: SyncOptions,
): { text?: string; doc?: JsonMap; foreign: boolean } | undefined {
  if (!settings.devcontainer) return undefined;
  const env = options.env ?? process.env;
  const text = currentText(project);
  const accepted = readAcceptedDevcontainer(project, env);
  const foreign = text !== undefined && accepted?.text !== text;
  if (foreign && !options.force && !options.accept) {
    const changes = devcontainerChanges(accepted?.text ?? undefined, text);
    throw new CctlError(
      accepted ? describeDevcontainerChanges(DEVCONTAINER_FILE, changes) : `${DEVCONTAINER_FILE} exists and cctl did not write it.`,
      {
        hint: accepted
          ? `Read it first: the editor runs initializeCommand on this machine. If you made the change: cctl init --accept-changes (cctl's keys are written over it, yours stay).`
          : `cctl writes its keys into it (dockerComposeFile, service, runServices, workspaceFolder, remoteUser, ...) and keeps yours: cctl init --devcontainer --accept-changes. Or keep your own file: cctl init --no-devcontainer.`,
      },
    );
  }
  let doc: JsonMap | undefined;
  if (text !== undefined) {
    const parsed = parseDevcontainer(text);
    if (parsed.problem && !options.force) {
      throw new CctlError(`${DEVCONTAINER_FILE} cannot be kept in step: ${parsed.problem}.`, {
        hint: 'cctl writes plain JSON (no comments). Remove the comments, or let cctl write it afresh: cctl init --force (a backup is written first).',
      });
    }
    doc = parsed.doc;
  }
  return { text, doc, foreign };
}

/** doctor: the editor's file as accepted (or not kept by cctl at all). */
export function devcontainerCheck(
  project: Project,
  settings: Pick<Settings, 'devcontainer'>,
  env: NodeJS.ProcessEnv = process.env,
): MachineCheck {
  const accepted = readAcceptedDevcontainer(project, env);
  if (!accepted) {
    return settings.devcontainer
      ? {
          name: 'devcontainer',
          status: 'warn',
          detail: `the devcontainer setting is on, but cctl has not written ${DEVCONTAINER_FILE} yet`,
          fix: 'Run "cctl init" or "cctl up".',
        }
      : { name: 'devcontainer', status: 'pass', detail: `cctl does not keep ${DEVCONTAINER_FILE} (cctl init --devcontainer writes one)` };
  }
  const changes = pendingDevcontainerChanges(project, env);
  if (changes.length === 0) return { name: 'devcontainer', status: 'pass', detail: `${DEVCONTAINER_FILE} is the accepted version` };
  return {
    name: 'devcontainer',
    status: changes.some((c) => c.host) ? 'fail' : 'warn',
    detail: describeDevcontainerChanges(DEVCONTAINER_FILE, changes),
    fix: `Read it before opening the folder in an editor (it runs initializeCommand on this machine); "cctl up" refuses until you accept it (--accept-changes).`,
  };
}
