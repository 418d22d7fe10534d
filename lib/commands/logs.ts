import type { OptionsFor } from './spec/verbs.js';
import { UsageError } from '../kernel/errors.js';
import { locateProject } from '../project/locate.js';
import { NO_ANSI } from '../engine/compose.js';
import { composeInteractive } from '../ops/compose.js';
import { storedSettings } from '../project/compose-file.js';
import { claudeServices } from '../ops/stack.js';

export default async function logs(args: string[], options: OptionsFor<'logs'>): Promise<number> {
  const project = locateProject(options);
  const services = claudeServices(storedSettings(project));
  const [service] = args;
  if (service && !services.includes(service)) {
    throw new UsageError(`Unknown service "${service}".`, `cctl logs shows ${services.join(' or ')}.`);
  }
  const flags: string[] = [];
  if (options.follow) flags.push('--follow');
  if (options.tail !== undefined) {
    if (!/^\d+$/.test(options.tail)) throw new UsageError(`--tail needs a number of lines, not "${options.tail}".`);
    flags.push(`--tail=${options.tail}`);
  }
  // Into a pipe or file, Compose's own escape codes would be noise (the service prefixes stay).
  const plain = process.stdout.isTTY ? [] : NO_ANSI;
  return composeInteractive(project, [...plain, 'logs', ...flags, ...(service ? [service] : services)]);
}
