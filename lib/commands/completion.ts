/** Shell completion scripts, generated from one table of verbs and their flags. */
import type { CommandOptions } from './command.js';
import { UsageError } from '../kernel/errors.js';

const GLOBAL = ['--file', '--project-name', '--debug', '--help', '--version'];
export const VERBS: Record<string, string[]> = {
  init: ['--force', '--base-image', '--claude-version', '--ccusage-version', '--monitor-version', '--ca-cert', '--monitor', '--no-monitor', '--plan', '--proxy', '--proxy-image', '--proxy-port', '--proxy-health', '--proxy-url', '--auth', '--upstream', '--publish', '--isolate', '--allow', '--workspace', '--tz', '--cpus', '--memory', '--set', '--json'],
  up: ['--build', '--timeout', '--json'],
  down: ['--volumes', '--yes', '--json'],
  build: ['--no-cache', '--json'],
  status: ['--json'],
  ps: ['--json'],
  logs: ['--follow', '--tail'],
  doctor: ['--json'],
  egress: ['--all', '--json'],
  completion: [],
  backup: ['--json'],
  restore: ['--force', '--json'],
  claude: [],
  monitor: ['--plan', '--view', '--timezone'],
  usage: ['daily', 'weekly', 'monthly', 'session', 'blocks', 'statusline', '--json', '--since', '--until', '--breakdown', '--offline', '--live', '--once', '--interval', '--token-limit'],
  shell: [],
  exec: ['--'],
};

function bash(): string {
  const cases = Object.entries(VERBS)
    .map(([verb, flags]) => `    ${verb}) words="${flags.join(' ')}" ;;`)
    .join('\n');
  return `# cctl bash completion: source <(cctl completion bash)
_cctl() {
  local cur verb words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  verb=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) verb="$w"; break ;; esac
  done
  case "$verb" in
    "") words="${Object.keys(VERBS).join(' ')} ${GLOBAL.join(' ')}" ;;
${cases}
    *) words="" ;;
  esac
  case "$verb" in logs) words="$words claude-cli proxy" ;; completion) words="bash zsh fish" ;; esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _cctl cctl
`;
}

function zsh(): string {
  return `#compdef cctl
# cctl zsh completion: cctl completion zsh > "\${fpath[1]}/_cctl"
_cctl() {
  local -a verbs
  verbs=(${Object.keys(VERBS).join(' ')})
  if (( CURRENT == 2 )); then
    compadd -- $verbs ${GLOBAL.join(' ')}
    return
  fi
  case "$words[2]" in
${Object.entries(VERBS)
  .map(([verb, flags]) => `    ${verb}) compadd -- ${[...flags, ...(verb === 'logs' ? ['claude-cli', 'proxy'] : []), ...(verb === 'completion' ? ['bash', 'zsh', 'fish'] : [])].join(' ')} ;;`)
  .join('\n')}
  esac
}
compdef _cctl cctl
`;
}

function fish(): string {
  const lines = [`# cctl fish completion: cctl completion fish > ~/.config/fish/completions/cctl.fish`, 'complete -c cctl -f'];
  lines.push(`complete -c cctl -n __fish_use_subcommand -a "${Object.keys(VERBS).join(' ')}"`);
  for (const [verb, flags] of Object.entries(VERBS)) {
    for (const f of flags) {
      lines.push(f.startsWith('--') && f.length > 2 ? `complete -c cctl -n "__fish_seen_subcommand_from ${verb}" -l ${f.slice(2)}` : `complete -c cctl -n "__fish_seen_subcommand_from ${verb}" -a ${f}`);
    }
  }
  lines.push('complete -c cctl -n "__fish_seen_subcommand_from logs" -a "claude-cli proxy"');
  lines.push('complete -c cctl -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"');
  return `${lines.join('\n')}\n`;
}

export const SCRIPTS: Record<string, () => string> = { bash, zsh, fish };

export default async function completion(args: string[], _options: CommandOptions): Promise<number> {
  const shell = args[0] ?? '';
  const make = SCRIPTS[shell];
  if (!make) throw new UsageError(`No completion for "${shell}".`, 'Use: cctl completion bash|zsh|fish');
  process.stdout.write(make());
  return 0;
}
