/**
 * `tessera completion bash|zsh|fish`: shell completion generated from the same command table and
 * flag declarations that drive parsing and --help, so it can never offer a command that is gone.
 *
 *   bash: source <(tessera completion bash)       zsh: source <(tessera completion zsh)
 *   fish: tessera completion fish | source
 */
import { GLOBAL_OPTIONS, usageOf, type CommandSpec, type Options } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;

const flagsOf = (options: Options) => Object.entries(options).map(([name, o]) => ({ name, ...o }));
const firstSentence = (text: string) => text.split(/(?<=\.) /)[0]!.replace(/\.$/, '');
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Command words → the next words or flags: the bash script's one `case`. */
function bashScript(specs: CommandSpec[]): string {
  const words = new Map<string, Set<string>>();
  for (const spec of specs) {
    for (let i = 0; i < spec.path.length; i++) {
      const key = spec.path.slice(0, i).join(' ');
      if (!words.has(key)) words.set(key, new Set());
      words.get(key)!.add(spec.path[i]!);
    }
  }
  const globals = flagsOf(GLOBAL_OPTIONS).map((f) => `--${f.name}`);
  const cases = [
    ...[...words].map(([key, next]) => `    ${quote(key)}) words=${quote([...next].join(' '))} ;;`),
    ...specs.map((spec) => `    ${quote(spec.path.join(' '))}) words=${quote([...flagsOf(spec.options ?? {}).map((f) => `--${f.name}`), ...globals].join(' '))} ;;`),
  ];
  const valueFlags = [...flagsOf(GLOBAL_OPTIONS), ...specs.flatMap((s) => flagsOf(s.options ?? {}))].filter((f) => f.type === 'string');
  const takesValue = [...new Set(valueFlags.flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]))].join('|');
  return `# bash completion for tessera: source <(tessera completion bash)
_tessera() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      ${takesValue}) ((i++)) ;;  # its value is not a command word
      -*) ;;
      *) path="\${path:+$path }$word" ;;
    esac
  done
  case "$path" in
${cases.join('\n')}
    *) words=${quote(globals.join(' '))} ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _tessera tessera
`;
}

/** zsh runs the bash function through bashcompinit, which ships with zsh. */
function zshScript(specs: CommandSpec[]): string {
  return `#compdef tessera
# zsh completion for tessera: source <(tessera completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(specs).split('\n').slice(1).join('\n')}`;
}

function fishScript(specs: CommandSpec[]): string {
  const lines = ['# fish completion for tessera: tessera completion fish | source', 'complete -c tessera -f'];
  for (const f of flagsOf(GLOBAL_OPTIONS)) lines.push(`complete -c tessera -l ${f.name}${f.short ? ` -s ${f.short}` : ''}${f.type === 'string' ? ' -r' : ''} -d ${quote(f.help)}`);
  const groups = new Map<string, CommandSpec[]>();
  for (const spec of specs) {
    const top = spec.path[0]!;
    groups.set(top, [...(groups.get(top) ?? []), spec]);
  }
  for (const [top, members] of groups) {
    const summary = members.length === 1 && members[0]!.path.length === 1 ? firstSentence(members[0]!.summary) : `${top} commands`;
    lines.push(`complete -c tessera -n __fish_use_subcommand -a ${top} -d ${quote(summary)}`);
    for (const spec of members) {
      const seen = spec.path.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ');
      if (spec.path.length === 2) {
        const others = members.map((m) => m.path[1]).join(' ');
        lines.push(`complete -c tessera -n ${quote(`__fish_seen_subcommand_from ${top}; and not __fish_seen_subcommand_from ${others}`)} -a ${spec.path[1]} -d ${quote(firstSentence(spec.summary))}`);
      }
      for (const f of flagsOf(spec.options ?? {})) lines.push(`complete -c tessera -n ${quote(seen)} -l ${f.name}${f.short ? ` -s ${f.short}` : ''}${f.type === 'string' ? ' -r' : ''} -d ${quote(f.help)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const spec: CommandSpec = {
  path: ['completion'],
  summary: 'Print a shell completion script for bash, zsh or fish.',
  args: 'SHELL',
  arity: [1, 1],
  notes: ['Examples:', '  source <(tessera completion bash)     # in ~/.bashrc', '  source <(tessera completion zsh)      # in ~/.zshrc', '  tessera completion fish > ~/.config/fish/completions/tessera.fish'],
};

/** Takes the whole command table (itself included), which only main.ts knows. */
export function completionCommands(all: () => Command[]): Command[] {
  return [
    {
      spec,
      async run(ctx) {
        const shell = ctx.args.positionals[0] as (typeof SHELLS)[number];
        if (!SHELLS.includes(shell)) throw new UsageError(`no completion for ${shell}: pick ${SHELLS.join(', ')}`, usageOf(spec));
        const specs = all().map((c) => c.spec);
        ctx.io.stdout.write({ bash: bashScript, zsh: zshScript, fish: fishScript }[shell](specs));
      },
    },
  ];
}
