/**
 * init's flag for each setting, made from the SETTINGS table
 * (project/settings.ts), so the name, the kind of value, the description,
 * the choices and the environment variable are declared once. The flag is
 * the setting's name (`--base-image`, read back by fromFlags as `baseImage`);
 * a boolean is a switch with its --no- form, a list is repeatable.
 */
import { envName, SETTING_NAMES, SETTINGS, type SettingName, type Settings } from '../../project/settings.js';
import { flag, type Flag, type OptionSpec, value, type Value, values, type Values } from './define.js';

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
type FlagOf<T> = T extends boolean ? Flag : T extends readonly string[] ? Values : Value;

/** Each setting's option, under the key cac parses it to. */
export type SettingFlags = { [K in SettingName as Camel<K>]: FlagOf<Settings[K]> };

export const optionKey = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** What --help says of a setting's flag: the table's description, then its choices, default and variables. */
export function settingHelp(name: SettingName): string {
  const spec = SETTINGS[name];
  const d = spec.default;
  const shown = Array.isArray(d) ? d.join(' ') : d === true ? 'on' : d === false ? '' : String(d);
  const notes = [
    spec.choices ? `one of ${spec.choices.join(', ')}` : '',
    Array.isArray(d) ? 'repeatable' : '',
    shown ? `default ${shown}` : '',
    typeof d === 'boolean' ? `--no-${name} turns it off` : '',
    `env ${[envName(name), spec.env].filter(Boolean).join(' or ')}`,
  ].filter(Boolean);
  return `${spec.describe} (${notes.join('; ')})`;
}

export function settingFlags(): SettingFlags {
  const options: Record<string, OptionSpec> = {};
  for (const name of SETTING_NAMES) {
    const spec = SETTINGS[name];
    const help = settingHelp(name);
    const usage = `--${name} <${spec.arg ?? 'value'}>`;
    options[optionKey(name)] =
      typeof spec.default === 'boolean'
        ? flag(`--${name}`, help, { negatable: true })
        : Array.isArray(spec.default)
          ? values(usage, help)
          : value(usage, help);
  }
  return options as SettingFlags;
}
