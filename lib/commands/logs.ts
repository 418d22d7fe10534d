import type { OptionsFor } from './declarations/verbs.js';
import { UsageError } from '../kernel/errors.js';
import { locateProject } from '../project/locate.js';
import { logs as composeLogs } from '../engine/compose-client.js';
import { projectInvocation } from '../ops/compose.js';
import { storedSettings } from '../project/compose-file.js';
import { claudeServices } from '../ops/stack.js';

export default async function logs(args: string[], options: OptionsFor<'logs'>): Promise<number> {
  const project = locateProject(options);
  const services = claudeServices(storedSettings(project));
  const [service] = args;
  if (service && !services.includes(service)) {
    throw new UsageError(`Unknown service "${service}".`, `cctl logs shows ${services.join(' or ')}.`);
  }
  if (options.tail !== undefined && !/^\d+$/.test(options.tail))
    throw new UsageError(`--tail needs a number of lines, not "${options.tail}".`);
  return composeLogs(await projectInvocation(project), {
    services: service ? [service] : services,
    follow: options.follow === true,
    tail: options.tail === undefined ? undefined : Number(options.tail),
    // Into a pipe or file, Compose's own escape codes would be noise (the service prefixes stay).
    ansi: process.stdout.isTTY === true,
  });
}
