/**
 * Questions to the person at the terminal. Prompts go to stderr, so stdout stays clean for
 * whatever the command prints; passwords are read without echo. Commands check `interactive`
 * first: a prompt on a pipe would hang a script, so they refuse (exit 2) instead.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError } from './errors.js';

export interface Terminal {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export const interactive = (io: Terminal): boolean => io.stdin.isTTY === true;

function ask(io: Terminal, question: string, secret: boolean): Promise<string> {
  // With echo off, readline writes the typed characters to a sink instead of the terminal.
  const output = secret ? new Writable({ write: (_chunk, _encoding, done) => done() }) : io.stderr;
  if (secret) io.stderr.write(question);
  const rl = createInterface({ input: io.stdin, output, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.on('SIGINT', () => rl.close());
    rl.once('close', () => {
      if (secret) io.stderr.write('\n');
      if (!answered) reject(new CliError('cancelled', 130));
    });
    rl.question(secret ? '' : question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

export const askLine = (io: Terminal, question: string) => ask(io, question, false);
export const askSecret = (io: Terminal, question: string) => ask(io, question, true);

/** All of stdin, less one trailing newline: `echo secret | tessera ... --password-stdin`. */
export async function readStdin(io: Terminal): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
