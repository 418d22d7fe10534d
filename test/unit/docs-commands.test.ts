/**
 * The command lines the README and the guide show, held to the declarations: every option a
 * `cctl VERB ...` line in a shell block passes to a verb of cctl's own is one that verb (or every
 * verb) declares, and each verb exists, so a reader who pastes it never meets "Unknown option". The pass-through verbs
 * hand what follows to the tool and are left out.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completions, type VerbSpec } from '../../lib/commands/declarations/define.js';
import { GLOBAL_OPTIONS, VERBS } from '../../lib/commands/declarations/verbs.js';

const ROOT = new URL('../../', import.meta.url);
const PASS_THROUGH = new Set(['claude', 'monitor', 'usage', 'shell', 'exec']);

/** Each `cctl ...` command line in the file's sh code blocks, with the line number. */
function commandLines(file: string): Array<{ at: string; words: string[] }> {
  const lines = readFileSync(fileURLToPath(new URL(file, ROOT)), 'utf8').split('\n');
  const found: Array<{ at: string; words: string[] }> = [];
  let inSh = false;
  lines.forEach((line, i) => {
    if (/^```/.test(line)) inSh = line.trim() === '```sh' ? !inSh : false;
    else if (inSh)
      for (const part of line.replace(/\s+#\s.*$/, '').split(/&&|\||;/)) {
        const words = part.trim().split(/\s+/);
        const at = words.indexOf('cctl');
        if (at >= 0 && words.slice(0, at).every((w) => /^[A-Z_]+=/.test(w)))
          found.push({ at: `${file}:${i + 1}`, words: words.slice(at + 1) });
      }
  });
  return found;
}

const globals = Object.values(GLOBAL_OPTIONS).flatMap((o) => [...completions(o), ...(/^-\w\b/.exec(o.flags) ?? [])]);

test('every option a cctl command line in README.md and docs/GUIDE.md passes is declared by its verb', (t) => {
  let checked = 0;
  for (const file of ['README.md', 'docs/GUIDE.md']) {
    for (const { at, words } of commandLines(file)) {
      const verbAt = words.findIndex((w) => !w.startsWith('-'));
      const verb = words[verbAt];
      const spec = (VERBS as Record<string, VerbSpec>)[verb ?? ''];
      const aliases = Object.values(VERBS as Record<string, VerbSpec>).map((v) => v.alias);
      if (verb !== undefined && !/^[<A-Z$]/.test(verb))
        t.true(spec !== undefined || aliases.includes(verb), `${at}: cctl has no command ${verb}`);
      if (!spec || PASS_THROUGH.has(verb!)) continue;
      const known = new Set([
        ...globals,
        '-h',
        '--help',
        ...Object.values(spec.options).flatMap((o) => [...completions(o), ...(/^-\w\b/.exec(o.flags) ?? [])]),
      ]);
      const end = words.indexOf('--');
      for (const word of end < 0 ? words : words.slice(0, end)) {
        if (!/^--?[a-z]/.test(word)) continue;
        checked++;
        t.true(known.has(word.split('=')[0]!), `${at}: cctl ${verb} has no option ${word}`);
      }
    }
  }
  t.true(checked > 40, `only ${checked} options found: the scan missed the code blocks`);
});
