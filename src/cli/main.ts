#!/usr/bin/env node
/**
 * `tessera`: the command-line client of the gateway's REST API, plus `tessera serve` to run the
 * gateway. This file finds the command, parses its flags, runs it and turns whatever it throws
 * into one line on stderr and an exit code: 0 ok, 1 error, 2 usage, 3 not authenticated or
 * forbidden. Stack traces only with --debug.
 */
import { flagLines, GLOBAL_OPTIONS, parseCommand, splitCommandWords, usageOf } from './args.js';
import { adminCommands } from './commands/admin.js';
import { auditCommands } from './commands/audit.js';
import { adminStoreCommands } from './commands/admin-store.js';
import { completionCommands } from './commands/completion.js';
import { loginCommands } from './commands/login.js';
import { serveCommands } from './commands/serve.js';
import { tokenCommands } from './commands/token.js';
import { scopeCommands } from './commands/scope.js';
import { sessionCommands } from './commands/session.js';
import { leakReportCommands } from './commands/leak-report.js';
import { userCommands } from './commands/user.js';
import { CliContext, type Command, type Env, type Io } from './context.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { closestWord } from './suggest.js';
import { cliVersion } from './version.js';

const COMMANDS: Command[] = [...loginCommands, ...tokenCommands, ...scopeCommands, ...sessionCommands, ...leakReportCommands, ...userCommands, ...adminCommands, ...adminStoreCommands, ...auditCommands, ...serveCommands, ...completionCommands(() => COMMANDS)];

/** Commands that take a second word, with their heading in the help. */
const GROUPS: Record<string, string> = {
  token: 'Personal access tokens',
  scope: 'Scopes',
  session: 'Sign-in sessions',
  user: 'Users (admins)',
  admin: 'Emergencies (admins)',
};

const firstSentence = (text: string) => text.split(/(?<=\.) /)[0]!.replace(/\.$/, '');

function listing(commands: Command[]): string[] {
  const names = commands.map((c) => c.spec.path.join(' '));
  const width = Math.max(...names.map((n) => n.length));
  return commands.map((c, i) => `  ${names[i]!.padEnd(width)}  ${firstSentence(c.spec.summary)}`);
}

function topUsage(): string {
  const sections: [string, Command[]][] = [
    ['Logging in', loginCommands],
    ...Object.entries(GROUPS).map(([group, title]): [string, Command[]] => [title, COMMANDS.filter((c) => c.spec.path[0] === group)]),
    ['Audit trail', auditCommands],
    ['Running the gateway', serveCommands],
    ['Shell', COMMANDS.filter((c) => c.spec.path[0] === 'completion')],
  ];
  return [
    'tessera: command-line client of the Tessera identity gateway',
    '',
    'Usage: tessera <command> [flags]',
    ...sections.flatMap(([title, commands]) => ['', `${title}:`, ...listing(commands)]),
    '',
    'Global flags:',
    ...flagLines(GLOBAL_OPTIONS),
    '  --version     print the version of tessera',
    '',
    'Environment: TESSERA_SERVER (gateway URL), TESSERA_TOKEN (token to use instead of the stored login),',
    'XDG_CONFIG_HOME (credentials in $XDG_CONFIG_HOME/tessera/credentials.json).',
    'Exit codes: 0 ok, 1 error, 2 usage, 3 not authenticated or forbidden.',
    'Run "tessera <command> --help" for a command\'s flags.',
  ].join('\n');
}

function groupUsage(group: string): string {
  return [`Usage: tessera ${group} <command> [flags]`, '', `${GROUPS[group]}:`, ...listing(COMMANDS.filter((c) => c.spec.path[0] === group)), '', `Run "tessera ${group} <command> --help" for a command's flags.`].join('\n');
}

/** How many words name the command: `help` and groups take more. */
function depth(words: string[]): number {
  if (words[0] === 'help') return 1 + depth(words.slice(1));
  return words[0] !== undefined && GROUPS[words[0]] ? 2 : 1;
}

/**
 * A mistyped command gets one line and a suggestion, as git and kubectl answer, not the whole
 * help: `unknown command "tokn"; did you mean "token"?`.
 */
function unknownCommand(words: string[]): UsageError {
  const inGroup = words.length > 1 && GROUPS[words[0]!] !== undefined;
  const known = [...new Set(COMMANDS.filter((c) => !inGroup || c.spec.path[0] === words[0]).map((c) => c.spec.path[inGroup ? 1 : 0]!))];
  const typed = words[inGroup ? 1 : 0]!;
  const near = closestWord(typed, [...known, ...(inGroup ? [] : ['help'])]);
  const prefix = inGroup ? `${words[0]} ` : '';
  const hint = near ? `; did you mean "${prefix}${near}"?` : '';
  return new UsageError(`unknown command "${prefix}${typed}"${hint}\nRun "tessera ${prefix}--help" for the list of commands.`);
}

async function run(argv: string[], io: Io, env: Env): Promise<number> {
  let { words, rest } = splitCommandWords(argv, depth);
  if (words[0] === 'help') {
    words = words.slice(1);
    rest = [...rest, '--help'];
  }
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (!words.length && (rest.includes('--version') || rest.includes('-v'))) {
    io.stdout.write(`tessera ${cliVersion()}\n`);
    return EXIT.ok;
  }
  if (!words.length) {
    if (!wantsHelp) throw new UsageError('missing command', topUsage());
    io.stdout.write(`${topUsage()}\n`);
    return EXIT.ok;
  }
  const [first] = words as [string];
  if (GROUPS[first] && words.length === 1) {
    if (!wantsHelp) throw new UsageError(`${first} needs a command`, groupUsage(first));
    io.stdout.write(`${groupUsage(first)}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.spec.path.join(' ') === words.join(' '));
  if (!command) throw unknownCommand(words);

  const args = parseCommand(command.spec, rest);
  if (args.flag('help')) {
    io.stdout.write(`${usageOf(command.spec)}\n`);
    return EXIT.ok;
  }
  await command.run(new CliContext(args, io, env));
  return EXIT.ok;
}

function report(err: unknown, io: Io, debug: boolean): number {
  if (err instanceof UsageError) {
    io.stderr.write(`tessera: ${err.message}\n${err.usage ? `\n${err.usage}\n` : ''}`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`tessera: ${message}\n`);
  if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof CliError)) io.stderr.write('(an unexpected error: run again with --debug for details)\n');
  return err instanceof CliError ? err.exitCode : EXIT.error;
}

const argv = process.argv.slice(2);
run(argv, process, process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err, process, argv.includes('--debug'));
  },
);
