/**
 * Shell completion scripts, generated from the verbs' declarations
 * (spec/verbs.ts): a flag added there is offered by every shell, with no list
 * to keep in step by hand.
 */
import type { OptionsFor } from './spec/verbs.js';
import { GLOBAL_OPTIONS, VERBS } from './spec/verbs.js';
import { completions, type VerbSpec } from './spec/define.js';
import { UsageError } from '../kernel/errors.js';

const GLOBAL = [...Object.values(GLOBAL_OPTIONS).flatMap(completions), '--help', '--version'];

/** Each verb (and alias) with the words to offer after it: its flags, then its extra words. */
function completionTable(): Array<[string, string[]]> {
  return (Object.entries(VERBS) as Array<[string, VerbSpec]>).flatMap(([name, spec]) => {
    const words = [...Object.values(spec.options).flatMap(completions), ...(spec.words ?? [])];
    return spec.alias ? [[name, words], [spec.alias, words]] : [[name, words]];
  });
}

function bash(): string {
  const table = completionTable();
  const cases = table.map(([verb, words]) => `    ${verb}) words="${words.join(' ')}" ;;`).join('\n');
  return `# cctl bash completion: source <(cctl completion bash)
_cctl() {
  local cur verb words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) verb="$w"; break ;; esac
  done
  case "$verb" in
    "") words="${table.map(([v]) => v).join(' ')} ${GLOBAL.join(' ')}" ;;
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _cctl cctl
`;
}

function zsh(): string {
  const table = completionTable();
  return `#compdef cctl
# cctl zsh completion: cctl completion zsh > "\${fpath[1]}/_cctl"
_cctl() {
  local -a verbs
  verbs=(${table.map(([v]) => v).join(' ')})
  if (( CURRENT == 2 )); then
    compadd -- $verbs ${GLOBAL.join(' ')}
    return
  fi
  case "$words[2]" in
${table.map(([verb, words]) => `    ${verb}) compadd -- ${words.join(' ')} ;;`).join('\n')}
  esac
}
compdef _cctl cctl
`;
}

function fish(): string {
  const table = completionTable();
  const lines = ['# cctl fish completion: cctl completion fish > ~/.config/fish/completions/cctl.fish', 'complete -c cctl -f'];
  lines.push(`complete -c cctl -n __fish_use_subcommand -a "${table.map(([v]) => v).join(' ')}"`);
  for (const g of GLOBAL) lines.push(`complete -c cctl -l ${g.slice(2)}`);
  for (const [verb, words] of table) {
    for (const w of words) {
      const when = `-n "__fish_seen_subcommand_from ${verb}"`;
      lines.push(w.startsWith('--') && w.length > 2 ? `complete -c cctl ${when} -l ${w.slice(2)}` : `complete -c cctl ${when} -a ${w}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const SCRIPTS: Record<string, () => string> = { bash, zsh, fish };

export default async function completion(args: string[], _options: OptionsFor<'completion'>): Promise<number> {
  const shell = args[0] ?? '';
  const make = SCRIPTS[shell];
  if (!make) throw new UsageError(`No completion for "${shell}".`, 'Use: cctl completion bash|zsh|fish');
  process.stdout.write(make());
  return 0;
}
