/**
 * Each verb declares its options once (lib/commands/declarations/verbs.ts); cac's
 * registration, --help, the handler's types and the shell completions all
 * come from that declaration. These tests check the pieces agree.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../lib/cli.js';
import { SCRIPTS } from '../../lib/commands/completion.js';
import { completions, longName, normalize, type VerbSpec } from '../../lib/commands/declarations/define.js';
import { GLOBAL_OPTIONS, VERBS } from '../../lib/commands/declarations/verbs.js';
import { FakeEngine, withEngine } from '../helpers/fake-engine.js';
import { withTool } from '../helpers/tools.js';
import { scratchDir } from '../helpers/scratch.js';

const verbs = Object.entries(VERBS) as Array<[string, VerbSpec]>;
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

test('every option key is the name cac parses the flag into', (t) => {
  for (const [name, spec] of verbs) {
    for (const [key, option] of Object.entries(spec.options)) t.is(key, camel(longName(option)), `${name} ${option.flags}`);
  }
  for (const [key, option] of Object.entries(GLOBAL_OPTIONS)) t.is(key, camel(longName(option)));
});

/** The words a shell script offers after `verb`, read back from the script itself. */
function offered(shell: string, script: string, verb: string): string[] {
  if (shell === 'fish') {
    return [...script.matchAll(new RegExp(`__fish_seen_subcommand_from ${verb}" (-l|-a) (\\S+)`, 'g'))].map((m) =>
      m[1] === '-l' ? `--${m[2]}` : m[2]!,
    );
  }
  const line = script.split('\n').find((l) => l.trim().startsWith(`${verb})`)) ?? '';
  return line
    .replace(/^\s*\S+\)\s*(words="|compadd -- )?/, '')
    .replace(/"?\s*;;\s*$/, '')
    .split(/\s+/)
    .filter(Boolean);
}

for (const shell of Object.keys(SCRIPTS)) {
  test(`${shell} completion offers every declared flag of every verb, and every verb`, (t) => {
    const script = SCRIPTS[shell]!();
    for (const [name, spec] of verbs) {
      const words = offered(shell, script, name);
      for (const option of Object.values(spec.options)) {
        for (const flag of completions(option)) t.true(words.includes(flag), `${shell}: ${name} lacks ${flag} (offers ${words.join(' ')})`);
      }
      for (const word of spec.words ?? []) t.true(words.includes(word), `${shell}: ${name} lacks ${word}`);
      if (spec.alias) t.deepEqual(offered(shell, script, spec.alias), words);
    }
    for (const g of Object.values(GLOBAL_OPTIONS).flatMap(completions)) t.true(script.includes(g.slice(2)), `${shell} lacks ${g}`);
  });
}

test('the check can fail: a flag missing from the script is noticed', (t) => {
  const script = SCRIPTS.bash!().replace('build) words="--no-cache ', 'build) words="');
  t.false(offered('bash', script, 'build').includes('--no-cache'));
});

test('the bash script parses', (t) => {
  const bash = spawnSync('bash', ['-n'], { input: SCRIPTS.bash!(), encoding: 'utf8' });
  t.is(bash.status, 0, bash.stderr);
});

/** What bash's completion offers for the words typed so far (the last one is being completed). */
function bashOffers(typed: string[]): string[] {
  const words = ['cctl', ...typed].map((w) => `'${w}'`).join(' ');
  const script = `${SCRIPTS.bash!()}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _cctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completes after -p NAME and -f FILE as after nothing: the value is not taken for the verb', (t) => {
  t.deepEqual(bashOffers(['up', '--b']), ['--build']);
  t.deepEqual(bashOffers(['-p', 'demo', 'up', '--b']), ['--build']);
  t.deepEqual(bashOffers(['--project-name', 'demo', '-f', 'x.yaml', 'logs', 'pro']), ['proxy']);
  t.true(bashOffers(['-p', 'demo', 'st']).includes('status'));
  t.deepEqual(bashOffers(['-p', '']), [], 'a project name is not completed from the verbs');
});

// zsh -n reads the script without running it; CI installs zsh (.ci/packages.sh) so this never stands aside there.
withTool('zsh', 'apt-get install zsh')('the zsh script parses, and zsh -n can fail', (t) => {
  const zsh = spawnSync('zsh', ['-n'], { input: SCRIPTS.zsh!(), encoding: 'utf8' });
  t.is(zsh.status, 0, zsh.stderr);
  const broken = spawnSync('zsh', ['-n'], { input: SCRIPTS.zsh!().replace(/\besac\b/, ''), encoding: 'utf8' });
  t.not(broken.status, 0, 'a script with a case left open must not parse');
});

test('normalize gives the declared types: booleans, strings, lists, and the globals', (t) => {
  const opts = normalize(VERBS.init, {
    json: true,
    set: 'a=1',
    allow: ['github', 'npm'],
    proxyPort: 3001,
    monitor: false,
    file: 'x.yaml',
    debug: true,
    stray: 1,
  });
  t.deepEqual(opts, { json: true, set: ['a=1'], allow: ['github', 'npm'], proxyPort: '3001', monitor: false, file: 'x.yaml', debug: true });
  t.deepEqual(normalize(VERBS.logs, { tail: [5, 50] }), { tail: '50' });
});

async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await fn(), out };
  } finally {
    process.stdout.write = write;
  }
}

test.serial('--help of each verb lists its declared options', async (t) => {
  // The pass-through verbs too: `cctl usage --help` is cctl's help (--team, --live), not ccusage's.
  for (const [name, spec] of verbs) {
    const { code, out } = await captured(() => main([name, '--help']));
    t.is(code, 0);
    for (const option of Object.values(spec.options)) t.true(out.includes(option.flags), `${name} --help lacks ${option.flags}`);
    // A verb of several actions lists each on a line of its own, under its usage.
    for (const [usage, what] of Object.entries(spec.actions ?? {}))
      t.regex(
        out,
        new RegExp(`^  ${usage.replace(/[[\]]/g, '\\$&')} +${what.replace(/[()$.*+?[\]|]/g, '\\$&')}$`, 'm'),
        `${name} --help: ${usage}`,
      );
    if (spec.actions) t.true(out.indexOf('Actions:') > out.indexOf('Usage:') && out.indexOf('Actions:') < out.indexOf('Options:'), name);
    // The description's list of actions and the Actions lines name the same ones (deploy was in one only).
    if (spec.actions)
      t.deepEqual(
        [...new Set(Object.keys(spec.actions).map((a) => a.split(' ')[0]))],
        spec.description.replace(/^.*: /, '').split(', '),
        `${name}: actions`,
      );
    // What the verb does, in the words of the command list, right under its usage line.
    t.true(out.includes(`$ cctl ${spec.usage}\n\n${spec.description}\n`), `${name} --help does not say what it does`);
    // cac's own default for a --no- flag would print "--no-cache ... (default: true)".
    t.notRegex(out, /--no-\S+ .*\(default: true\)/, `${name} --help`);
  }
});

/** main()'s exit code and what it wrote on stderr. */
async function stderrOf(argv: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err };
  } finally {
    process.stderr.write = write;
  }
}

test.serial("an unknown option is named as typed (cac says `--caCert`), exits 2, and points at the command's --help", async (t) => {
  const { code, err } = await stderrOf(['up', '--ca-cert', 'x.pem']);
  t.is(code, 2);
  t.regex(err, /^cctl: Unknown option `--ca-cert` for "cctl up"\.\n.*cctl init --ca-cert\b.*"cctl up --help"/);
});

test.serial('up --no-monitor is named as typed (cac says `--monitor`) and pointed at init, where it belongs', async (t) => {
  const { code, err } = await stderrOf(['up', '--no-monitor']);
  t.is(code, 2);
  t.regex(err, /^cctl: Unknown option `--no-monitor` for "cctl up"\.\n/);
  t.regex(err, /cctl init --no-monitor/);
  t.regex(err, /"cctl up --help"/);
});

test.serial("an option no verb has gets only the verb's --help; a short one keeps its single dash", async (t) => {
  const long = await stderrOf(['down', '--no-such-thing=1']);
  t.is(long.code, 2);
  t.is(long.err, 'cctl: Unknown option `--no-such-thing` for "cctl down".\nRun "cctl down --help" for its options.\n');
  const short = await stderrOf(['status', '-y']);
  t.is(short.code, 2);
  t.regex(short.err, /^cctl: Unknown option `-y` for "cctl status"\.\nIt belongs to cctl down -y.*"cctl status --help"/);
});

test.serial('a verb without its required word names what it needs (and the actions), exits 2, and points at its --help', async (t) => {
  const gateway = await stderrOf(['gateway']);
  t.is(gateway.code, 2);
  t.regex(gateway.err, /^cctl: "cctl gateway" needs <action>: init, up, .*member, migrate\.\nRun "cctl gateway --help"/);
  const restore = await stderrOf(['restore']);
  t.is(restore.code, 2);
  t.is(restore.err, 'cctl: "cctl restore" needs <file>.\nRun "cctl restore --help" for what it takes.\n');
});

test.serial('through the CLI, a handler gets declared types: --tail 50 arrives as "50"', async (t) => {
  const dir = scratchDir('cctl-options-');
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, 'services:\n  web:\n    image: nginx\n');
  const fake = new FakeEngine();
  const code = await withEngine(fake, () => main(['-f', file, '-p', 'demo', 'logs', '--tail', '50', 'proxy']));
  t.is(code, 0);
  const [logs] = fake.composeCalls('interactive');
  t.deepEqual(logs!.slice(-3), ['logs', '--tail=50', 'proxy']);
});
