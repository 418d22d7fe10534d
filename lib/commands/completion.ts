/**
 * Shell completion scripts, generated from the verbs' declarations
 * (declarations/verbs.ts): a flag added there is offered by every shell, with no list
 * to keep in step by hand.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { GLOBAL_OPTIONS, VERBS } from './declarations/verbs.js';
import { completions, type VerbSpec } from './declarations/define.js';
import { UsageError } from '../kernel/errors.js';

const GLOBAL = [...Object.values(GLOBAL_OPTIONS).flatMap(completions), '--help', '--version'];
/** Global options that take a value ('-f FILE', '-p NAME'), every spelling: the word after them is no verb. */
const GLOBAL_VALUES = Object.values(GLOBAL_OPTIONS)
  .filter((o) => o.kind === 'value')
  .flatMap((o) => o.flags.split(/[ ,]+/).filter((w) => w.startsWith('-')));
/** The file options among them, whose value the shell completes as a path. */
const FILE_VALUES = GLOBAL_OPTIONS.file.flags.split(/[ ,]+/).filter((w) => w.startsWith('-'));

/** Each verb (and alias) with the words to offer after it: its flags, then its extra words. */
function completionTable(): Array<[string, string[]]> {
  return (Object.entries(VERBS) as Array<[string, VerbSpec]>).flatMap(([name, spec]) => {
    const words = [...Object.values(spec.options).flatMap(completions), ...(spec.words ?? [])];
    return spec.alias
      ? [
          [name, words],
          [spec.alias, words],
        ]
      : [[name, words]];
  });
}

function bash(): string {
  const table = completionTable();
  const cases = table.map(([verb, words]) => `    ${verb}) words="${words.join(' ')}" ;;`).join('\n');
  return `# cctl bash completion: source <(cctl completion bash)
_cctl() {
  local cur prev verb words skip
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${FILE_VALUES.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    ${GLOBAL_VALUES.filter((f) => !FILE_VALUES.includes(f)).join('|')}) COMPREPLY=(); return ;;
  esac
  verb=""
  skip=""
  # The verb is the first word that is neither an option nor the value of ${GLOBAL_VALUES.join(', ')}.
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    if [ -n "$skip" ]; then skip=""; continue; fi
    case "$w" in ${GLOBAL_VALUES.join('|')}) skip=1 ;; -*) ;; *) verb="$w"; break ;; esac
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
  local verb="" skip="" i
  verbs=(${table.map(([v]) => v).join(' ')})
  case "$words[CURRENT-1]" in
    ${FILE_VALUES.join('|')}) _files; return ;;
    ${GLOBAL_VALUES.filter((f) => !FILE_VALUES.includes(f)).join('|')}) return ;;
  esac
  # The verb is the first word that is neither an option nor the value of ${GLOBAL_VALUES.join(', ')}.
  for (( i = 2; i < CURRENT; i++ )); do
    if [[ -n $skip ]]; then skip=""; continue; fi
    case "$words[i]" in ${GLOBAL_VALUES.join('|')}) skip=1 ;; -*) ;; *) verb="$words[i]"; break ;; esac
  done
  if [[ -z $verb ]]; then
    compadd -- $verbs ${GLOBAL.join(' ')}
    return
  fi
  case "$verb" in
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
