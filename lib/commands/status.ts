import type { CommandOptions } from '../cli.js';
import { findProject } from '../project.js';
import { storedSettings } from '../compose-file.js';
import { claudeServices, inspectServices, type ServiceState } from '../stack.js';

export function printServices(services: ServiceState[], out: (s: string) => void = (s) => process.stdout.write(s)): void {
  const rows = [['SERVICE', 'STATE', 'HEALTH', 'PORTS'], ...services.map((s) => [s.name, s.state, s.health, s.ports.join(', ') || '-'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`);
}

export default async function status(_args: string[], options: CommandOptions): Promise<number> {
  const project = findProject(options);
  const settings = storedSettings(project);
  const services = await inspectServices(project, claudeServices(settings));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ project: project.name, file: project.file, services }, null, 2)}\n`);
  } else {
    printServices(services);
  }
  return 0;
}
