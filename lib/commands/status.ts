import type { OptionsFor } from './spec/verbs.js';
import { locateProject } from '../project/locate.js';
import { storedSettings } from '../project/compose-file.js';
import { claudeServices, inspectServices } from '../ops/stack.js';
import { servicesTable } from '../ui/table.js';


export default async function status(_args: string[], options: OptionsFor<'status'>): Promise<number> {
  const project = locateProject(options);
  const settings = storedSettings(project);
  const services = await inspectServices(project, claudeServices(settings));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ project: project.name, file: project.file, services }, null, 2)}\n`);
  } else {
    process.stdout.write(servicesTable(services));
  }
  return 0;
}
