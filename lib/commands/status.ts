/**
 * `cctl status`: each claude service with its state, health and ports. It
 * exits 1 when a service has stopped on its own or is unhealthy (exited, dead,
 * restarting, unhealthy), so a script can tell a broken stack from a working
 * one; services with no container (after `cctl down`) are a normal state.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { locateProject } from '../project/locate.js';
import { storedSettings } from '../project/compose-file.js';
import { brokenServices, claudeServices, inspectServices } from '../ops/stack.js';
import { servicesTable } from '../ui/table.js';

export default async function status(_args: string[], options: OptionsFor<'status'>): Promise<number> {
  const project = locateProject(options);
  const settings = storedSettings(project);
  const services = await inspectServices(project, claudeServices(settings));
  const broken = brokenServices(services);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ project: project.name, file: project.file, ok: broken.length === 0, services }, null, 2)}\n`);
  } else {
    process.stdout.write(servicesTable(services));
  }
  if (!broken.length) return 0;
  for (const s of broken) process.stderr.write(`cctl: ${s.name} ${brokenText(s)}.\n`);
  process.stderr.write(`See why: cctl logs ${broken[0]!.name}. Start again: cctl up.\n`);
  return 1;
}

function brokenText(s: { state: string; health: string; exitCode?: number }): string {
  if (s.state === 'exited') return `has exited${s.exitCode === undefined ? '' : ` with code ${s.exitCode}`}`;
  if (s.state === 'running') return 'is running but unhealthy';
  return `is ${s.state}`;
}
