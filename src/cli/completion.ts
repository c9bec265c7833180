/**
 * `tend completion bash|zsh|fish`: a shell completion script generated from the program itself, so
 * that it names every command and option the CLI has (nothing to keep in step by hand). Commands
 * complete by position (`tend models <TAB>` offers list, show, …), options by the command typed.
 */
import type { Command } from 'commander';
import { errors } from '../core/errors.js';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandNode {
  /** Space-separated path below `tend` ('' for tend itself). */
  path: string;
  children: string[];
  options: string[];
}

function nodes(command: Command, path = ''): CommandNode[] {
  const options = command.options.flatMap((o) => (o.long !== undefined ? [o.long] : []));
  const own: CommandNode = { path, children: command.commands.map((c) => c.name()), options };
  return [own, ...command.commands.flatMap((c) => nodes(c, path === '' ? c.name() : `${path} ${c.name()}`))];
}

/** A word list as a shell word: the words only ever hold [a-z0-9-]. */
function words(list: readonly string[]): string {
  return `"${list.join(' ')}"`;
}

function bash(tree: CommandNode[]): string {
  const children = tree.map((n) => `    ${JSON.stringify(n.path)}) echo ${words(n.children)} ;;`).join('\n');
  const options = tree.map((n) => `    ${JSON.stringify(n.path)}) echo ${words(n.options)} ;;`).join('\n');
  return `# tend completion for bash: source <(tend completion bash)
_tend_children() {
  case "$1" in
${children}
  esac
}
_tend_options() {
  case "$1" in
${options}
  esac
}
_tend_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case " $(_tend_children "$path") " in
      *" $word "*) path="\${path:+$path }$word" ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_tend_options "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_tend_children "$path")" -- "$cur"))
  fi
}
complete -o default -F _tend_complete tend
`;
}

function fish(tree: CommandNode[]): string {
  const lines = ['# tend completion for fish: tend completion fish > ~/.config/fish/completions/tend.fish'];
  for (const n of tree) {
    // The condition: the last word of the path was typed, and none of its children yet.
    const last = n.path.split(' ').pop() ?? '';
    const after = n.path === '' ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${last}`;
    const notYet =
      n.children.length > 0 ? `; and not __fish_seen_subcommand_from ${n.children.join(' ')}` : '';
    if (n.children.length > 0) lines.push(`complete -c tend -n '${after}${notYet}' -a ${words(n.children)}`);
    for (const option of n.options)
      lines.push(`complete -c tend -n '${after}' -l ${option.replace(/^--/, '')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The completion script of `program` for `shell`.
 * @throws TendError TEND_INVALID_ARGUMENT for a shell tend has no script for
 * @example process.stdout.write(completionScript(buildProgram(), 'bash'))
 */
export function completionScript(program: Command, shell: string): string {
  const tree = nodes(program);
  switch (shell) {
    case 'bash':
      return bash(tree);
    case 'zsh':
      // zsh runs bash completion functions through bashcompinit.
      return `# tend completion for zsh: source <(tend completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash(tree)}`;
    case 'fish':
      return fish(tree);
    default:
      throw errors.invalidArgument(
        `no completion for shell '${shell}'; give one of ${COMPLETION_SHELLS.join(', ')}`,
      );
  }
}
