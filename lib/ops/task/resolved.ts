/**
 * The project's model as Compose resolves it, which task-model.ts turns into
 * a task's: asked of Compose once per accepted state of the project, then
 * kept in the private folder. A `compose config` is a Compose start (half a
 * second or more on a loaded machine) whose answer cannot differ while the
 * inputs are the ones the last `cctl up` fingerprinted, so `task new` pays it
 * only for the first task after a change.
 *
 * The key is what decides Compose's answer: the up record's fingerprint (the
 * compose file, .env, env files, extended and included files, the values of
 * the variables they use, Compose's version; up-record.ts and ops/up/record.ts)
 * and this machine's file as it is now (cctl writes it again before the call).
 * The file sits beside the task's compose files, outside every folder a
 * claude-cli mounts (plain fs: inside.test.ts lists this module).
 *
 * When Compose is asked, it reads the compose file's text as the fingerprint
 * hashed it, piped (`-f -`), not the file again: the project's claude-cli can
 * write that file at any moment, and the time between the check and
 * Compose's read is no window for it. The other inputs (.env, an extended
 * file) Compose still reads itself; the fingerprint is taken again after the
 * call, and a change since the check refuses the task.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Project } from '../../project/locate.js';
import { privateDir } from '../../project/private-dir.js';

type Model = Record<string, unknown>;

/** Where the kept model lives. */
export function resolvedFile(project: Pick<Project, 'name'>, env: NodeJS.ProcessEnv = process.env): string {
  return join(privateDir(project.name, env), 'task-stacks', 'resolved.json');
}

/** What Compose's answer depends on, hashed: the accepted fingerprint and the machine file's text. */
export function resolvedKey(fingerprint: string, machineFileText: string): string {
  return createHash('sha256').update(fingerprint).update('\0').update(machineFileText).digest('hex');
}

function readKept(file: string, key: string): Model | undefined {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; model?: unknown };
    const model = kept.model;
    return kept.key === key && typeof model === 'object' && model !== null && !Array.isArray(model) ? (model as Model) : undefined;
  } catch {
    // None yet, or unreadable: Compose is asked.
    return undefined;
  }
}

function keep(file: string, key: string, model: Model): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Written whole, then renamed: two `task new` at once never read half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ key, model }), { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * The kept model when `key` matches, else `ask()`'s answer, kept under `key` once `stillValid()` says the
 * inputs are still the ones the key was made from (a false answer keeps nothing and is the caller's refusal).
 */
export async function resolvedModel(
  project: Pick<Project, 'name'>,
  key: string,
  ask: () => Promise<Model>,
  stillValid: () => boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ model: Model; kept: boolean } | undefined> {
  const file = resolvedFile(project, env);
  const hit = readKept(file, key);
  if (hit) return { model: hit, kept: true };
  const model = await ask();
  if (!stillValid()) return undefined;
  keep(file, key, model);
  return { model, kept: false };
}
