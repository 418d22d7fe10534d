/**
 * `cctl settings import [--dry-run]`: the user's own Claude Code settings
 * (CLAUDE.md, settings.json, agents/, commands/) from ~/.claude into the
 * home volume. It lists what it adds or updates; a second run changes nothing.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { UsageError } from '../kernel/errors.js';
import { CLI_SERVICE, locateProject } from '../project/locate.js';
import { machineImageName } from '../project/machine-file.js';
import { homeVolumeName } from '../ops/stack.js';
import { hostClaudeDir, importSettings, IMPORTED } from '../ops/settings-import.js';

export default async function settings(args: string[], options: OptionsFor<'settings'>): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'import' || rest.length > 0) {
    throw new UsageError(`cctl settings ${args.join(' ')}: unknown action.`, 'Use: cctl settings import [--dry-run]');
  }
  const project = locateProject(options);
  const dryRun = options.dryRun === true;
  const result = await importSettings({
    volume: homeVolumeName(project),
    image: machineImageName(project, CLI_SERVICE),
    owner: project.name,
    from: hostClaudeDir(),
    dryRun,
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, dryRun, ...result }, null, 2)}\n`);
    return 0;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (result.files === 0) {
    out(`Nothing to import: ${result.from} has none of ${IMPORTED.join(', ')}.`);
    return 0;
  }
  const changed = result.changes.filter((c) => c.change !== 'skipped');
  if (changed.length === 0) out(`Nothing to do: the home volume already has your ${result.files} file(s) from ${result.from}.`);
  else out(`${dryRun ? 'Would import' : 'Imported'} from ${result.from} into ${homeVolumeName(project)}:`);
  for (const c of result.changes) out(`  ${c.change.padEnd(7)} ~/.claude/${c.path}${c.reason ? ` (${c.reason})` : ''}`);
  if (dryRun && changed.length > 0) out('Run "cctl settings import" to copy them.');
  return 0;
}
