import { createInterface } from 'node:readline/promises';
import type { OptionsFor } from './declarations/verbs.js';
import { CctlError, UsageError } from '../kernel/errors.js';
import { explainDockerError } from '../engine/docker.js';
import { locateProject } from '../project/locate.js';
import { remove, stop } from '../engine/compose-client.js';
import { projectInvocation } from '../ops/compose.js';
import { storedSettings } from '../project/compose-file.js';
import { removeNetworkIfUnused } from '../engine/networks.js';
import { removeVolume } from '../engine/volumes.js';
import { claudeServices, homeVolumeName, inspectServices } from '../ops/stack.js';
import { INTERNAL_NETWORK } from '../project/model.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Stops and removes only the claude services: `compose down` would also take
 * the user's own services in the same project with it.
 */
export default async function down(_args: string[], options: OptionsFor<'down'>): Promise<number> {
  const project = locateProject(options);
  const settings = storedSettings(project);
  const services = claudeServices(settings);
  const volume = homeVolumeName(project);
  if (options.volumes && !options.yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError(
        `--volumes deletes the volume ${volume} (logins, .claude.json, history, usage data); add --yes to confirm in a script.`,
        'Back it up first with "cctl backup".',
      );
    }
    const ok = await confirm(`This deletes the volume ${volume}: Claude logins, .claude.json, history and usage data. Delete it? [y/N] `);
    if (!ok) throw new CctlError('Nothing was deleted.', { exitCode: 1 });
  }
  // What exists is asked first, so the report names only what this run removed.
  const present = (await inspectServices(project, services)).filter((s) => s.state !== 'missing').map((s) => s.name);
  try {
    if (present.length) {
      const inv = await projectInvocation(project);
      await stop(inv, { services: present, timeoutSeconds: 5 });
      await remove(inv, { services: present });
    }
  } catch (error) {
    throw explainDockerError(error);
  }
  const removed: string[] = [];
  // Networks go when nothing else uses them; the user's own services may.
  for (const net of [`${project.name}_default`, `${project.name}_${INTERNAL_NETWORK}`]) {
    if (await removeNetworkIfUnused(net)) removed.push(net);
  }
  const volumeDeleted = options.volumes === true && (await removeVolume(volume));
  if (volumeDeleted) removed.push(volume);
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, stopped: present, removed })}\n`);
  else {
    process.stdout.write(
      present.length ? `Stopped and removed ${present.join(', ')}.\n` : `No ${services.join(' or ')} container to remove.\n`,
    );
    if (volumeDeleted) process.stdout.write(`Deleted the volume ${volume}.\n`);
    else if (options.volumes) process.stdout.write(`There was no volume ${volume} to delete.\n`);
    else process.stdout.write(`The volume ${volume} (logins, history, usage) is kept.\n`);
  }
  return 0;
}
