/**
 * init's setting flags come from the SETTINGS table, declared once: every
 * setting has a flag named after it, of its kind (switch, value, list), whose
 * help is the table's description with its choices and variables, and which
 * fromFlags reads back as that setting. `cctl init --help` prints them so.
 */
import test from 'ava';
import { main } from '../../lib/cli.js';
import type { OptionSpec } from '../../lib/commands/declarations/define.js';
import { optionKey, settingHelp } from '../../lib/commands/declarations/setting-flags.js';
import { VERBS } from '../../lib/commands/declarations/verbs.js';
import { fromFlags } from '../../lib/project/setting-layers.js';
import { envName, SETTING_NAMES, SETTINGS, type SettingName } from '../../lib/project/settings.js';

/** What is wrong between the init declaration and the table: one line each, empty when they agree. */
function disagreements(options: Readonly<Record<string, OptionSpec>>): string[] {
  const wrong: string[] = [];
  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    const option = options[optionKey(name)];
    if (!option) {
      wrong.push(`${name}: no init flag`);
      continue;
    }
    const kind = typeof spec.default === 'boolean' ? 'flag' : Array.isArray(spec.default) ? 'values' : 'value';
    if (option.kind !== kind) wrong.push(`${name}: a ${option.kind}, not a ${kind}`);
    if (!new RegExp(`(^|, )--${name}( |$)`).test(option.flags)) wrong.push(`${name}: spelled ${option.flags}`);
    const help = option.description;
    for (const part of [spec.describe, envName(name), ...(spec.choices ?? []), ...(spec.env ? [spec.env] : [])]) {
      if (!help.includes(part)) wrong.push(`${name}: its help lacks "${part}"`);
    }
  }
  return wrong;
}

test("every setting has an init flag of its kind, with the table's description, choices and variables", (t) => {
  t.deepEqual(disagreements(VERBS.init.options), []);
});

test('the check can fail: a missing flag, a hand-written description and a wrong kind are each named', (t) => {
  const { plan: _plan, ...withoutPlan } = VERBS.init.options;
  t.deepEqual(disagreements(withoutPlan), ['plan: no init flag']);
  const edited = {
    ...VERBS.init.options,
    auth: { ...VERBS.init.options.auth, description: 'Credentials: login or team-key (env CCTL_AUTH)' },
  };
  t.deepEqual(disagreements(edited), [`auth: its help lacks "${SETTINGS.auth.describe}"`]);
  const kind = {
    ...VERBS.init.options,
    isolate: { kind: 'value', flags: '--isolate <on>', description: settingHelp('isolate') } as OptionSpec,
  };
  t.deepEqual(disagreements(kind), ['isolate: a value, not a flag']);
});

test("fromFlags reads each setting back from its flag's key", (t) => {
  const sample: Partial<Record<SettingName, unknown>> = {
    plan: 'max5',
    'proxy-port': '8080',
    isolate: true,
    packages: ['make'],
    'git-email': 'a@example.com',
  };
  for (const [name, value] of Object.entries(sample) as [SettingName, unknown][]) {
    t.deepEqual((fromFlags({ [optionKey(name)]: value }) as Record<string, unknown>)[name], name === 'proxy-port' ? 8080 : value, name);
  }
});

test.serial("cctl init --help prints each setting's flag with its help", async (t) => {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
  try {
    t.is(await main(['init', '--help']), 0);
  } finally {
    process.stdout.write = write;
  }
  for (const name of SETTING_NAMES) {
    const option = VERBS.init.options[optionKey(name) as keyof typeof VERBS.init.options] as OptionSpec;
    t.regex(
      out,
      new RegExp(`^  ${option.flags.replace(/[<>]/g, '\\$&')} +${settingHelp(name).replace(/[()$.*+?[\]|\\/]/g, '\\$&')} ?$`, 'm'),
      name,
    );
  }
});
