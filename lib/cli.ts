/**
 * The command line: one thin cac file. The verbs and their options come from
 * their declarations (commands/declarations/verbs.ts, which loads nothing else), and
 * each action imports its command module only when it runs, so `cctl --help`
 * and `cctl --version` stay fast.
 */
import { cac } from 'cac';
import { readFileSync } from 'node:fs';
import { PASS_THROUGH } from './kernel/argv.js';
import type { CommandMain } from './commands/command.js';
import { GLOBAL_OPTIONS, VERBS, type VerbName } from './commands/declarations/verbs.js';
import { completions, normalize, type OptionSpec, type VerbSpec } from './commands/declarations/define.js';
import { EXIT_USAGE, UsageError } from './kernel/errors.js';
import { setDebug } from './engine/runner.js';
import { passThrough } from './pass-through.js';
import { report } from './failure-report.js';

export { report };

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION = pkg.version;

async function load(verb: VerbName): Promise<CommandMain> {
  const mod = (await import(`./commands/${verb}.js`)) as { default: CommandMain };
  return mod.default;
}

/** cac's registration and --help, from each verb's declaration (commands/declarations/verbs.ts). */
function build() {
  const cli = cac('cctl');
  for (const option of Object.values(GLOBAL_OPTIONS)) cli.option(option.flags, option.description);
  for (const [name, spec] of Object.entries(VERBS) as Array<[VerbName, VerbSpec]>) {
    const command = cli.command(spec.usage, spec.description);
    if (spec.alias) command.alias(spec.alias);
    for (const option of Object.values(spec.options)) {
      command.option(
        option.flags,
        option.description,
        option.kind === 'value' && option.default !== undefined ? { default: option.default } : undefined,
      );
      // cac gives a --no- flag the default true, and --help then says "--no-cache ... (default: true)"; unset, it reads as absent.
      if (option.flags.startsWith('--no-')) command.options.at(-1)!.config.default = undefined;
    }
    for (const example of spec.examples) command.example(example);
    // Pass-through verbs are registered for --help only: kernel/argv.ts splits their argv before cac sees it.
    if (spec.passThrough) command.allowUnknownOptions();
    else command.action(dispatch(name, spec));
  }
  // A verb's help says what it does under its usage (cac prints that only in the command list), and a
  // verb of several actions (gateway) lists them there, one line each.
  cli.help((sections) => {
    const spec = cli.matchedCommand && VERBS[cli.matchedCommand.name as VerbName];
    if (!spec) return sections;
    const added: Array<{ title?: string; body: string }> = [{ body: spec.description }];
    if (spec.actions) {
      const width = Math.max(...Object.keys(spec.actions).map((a) => a.length));
      const body = Object.entries(spec.actions)
        .map(([usage, what]) => `  ${usage.padEnd(width)}  ${what}`)
        .join('\n');
      added.push({ title: 'Actions', body });
    }
    const at = sections.findIndex((s) => s.title === 'Usage') + 1;
    return [...sections.slice(0, at), ...added, ...sections.slice(at)];
  });
  cli.version(VERSION);
  return cli;
}

let exitCode = 0;

function dispatch(verb: VerbName, spec: VerbSpec) {
  return async (...params: unknown[]) => {
    const raw = params.pop() as Record<string, unknown>;
    const options = normalize(spec, raw);
    const args = params.flat().filter((p): p is string => typeof p === 'string');
    const dashed = Array.isArray(raw['--']) ? (raw['--'] as unknown[]).map(String) : [];
    if (spec.afterDoubleDash && dashed.length) args.push('--', ...dashed);
    if (options.debug) setDebug(true);
    const main = await load(verb);
    exitCode = (await main(args, options)) ?? 0;
  };
}

/** What cac reads a flag as: `--no-monitor` and `--monitor` both as `monitor`, `--ca-cert=x` as `caCert`. */
function cacKeys(token: string): string[] {
  if (!token.startsWith('--')) return [...token.slice(1).split('=')[0]!];
  return [
    token
      .slice(2)
      .split('=')[0]!
      .replace(/^no-/, '')
      .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
  ];
}

/** Every way an option may be typed: '-v', '--volumes'; '--monitor', '--no-monitor'. */
const spellings = (option: OptionSpec) => [...(/^-\w\b/.exec(option.flags) ?? []), ...completions(option)];

/**
 * cac names an unknown option by its parsed key (`--monitor` for `--no-monitor`,
 * `--caCert` for `--ca-cert`); say it as typed, and name the verbs that have it.
 */
function unknownOption(error: Error, argv: readonly string[], verb: string | undefined): UsageError | undefined {
  // mri keeps "=1" in the key of `--no-x=1`.
  const key = /^Unknown option `--?([^`=]+)[^`]*`$/.exec(error.message)?.[1];
  if (key === undefined) return undefined;
  const end = argv.indexOf('--');
  const typed =
    (end < 0 ? argv : argv.slice(0, end)).find((a) => a.startsWith('-') && a !== '-' && cacKeys(a).includes(key))?.split('=')[0] ??
    `--${key}`;
  const where = verb ? `"cctl ${verb}"` : 'cctl';
  const help = verb ? `Run "cctl ${verb} --help" for its options.` : 'Run "cctl --help" for usage.';
  const homes = (Object.entries(VERBS) as Array<[VerbName, VerbSpec]>)
    .filter(([name, spec]) => name !== verb && Object.values(spec.options).some((o) => spellings(o).includes(typed)))
    .map(([name]) => `cctl ${name} ${typed}`);
  return new UsageError(`Unknown option \`${typed}\` for ${where}.`, homes.length ? `It belongs to ${homes.join(', ')}. ${help}` : help);
}

/** cac's "missing required args for command `gateway <action> [...args]`", said as what the verb needs. */
function missingArgs(error: Error): UsageError | undefined {
  const usage = /^missing required args for command `(\S+) ?([^`]*)`$/.exec(error.message);
  if (!usage) return undefined;
  const [, name, args] = usage;
  const needed = (args!.match(/<[^>]+>/g) ?? []).join(' ');
  const actions = VERBS[name as VerbName]?.actions;
  const names = actions ? `: ${[...new Set(Object.keys(actions).map((a) => a.split(' ')[0]))].join(', ')}` : '';
  return new UsageError(`"cctl ${name}" needs ${needed || 'an argument'}${names}.`, `Run "cctl ${name} --help" for what it takes.`);
}

export async function main(argv: readonly string[]): Promise<number> {
  let verb: string | undefined;
  try {
    // bin/cctl.js tries this first; here too, so main() alone is the whole CLI (tests call it).
    const fast = await passThrough(argv);
    if (fast !== undefined) return fast;
    const cli = build();
    cli.parse(['node', 'cctl', ...argv], { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (!cli.matchedCommand) {
      const word = cli.args[0];
      if (word && !PASS_THROUGH.has(word)) throw new UsageError(`Unknown command "${word}".`, 'Run "cctl --help" for the list.');
      cli.outputHelp();
      return word ? 0 : EXIT_USAGE;
    }
    verb = cli.matchedCommand.name;
    await cli.runMatchedCommand();
    return exitCode;
  } catch (error) {
    if (error instanceof Error && error.name === 'CACError') return report(unknownOption(error, argv, verb) ?? missingArgs(error) ?? error);
    return report(error);
  }
}
