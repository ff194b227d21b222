/**
 * What a command runs with: its parsed arguments, the streams, the environment, the chosen
 * server, the credentials store and an API client. `main.ts` builds one per run; commands take
 * everything from here, not from `process`.
 */
import type { CommandSpec, ParsedArgs } from './args.js';
import { ApiClient } from './client.js';
import { colourEnabled, painter, type Paint } from './colour.js';
import { CredentialStore, credentialsPath, normaliseServer } from './credentials.js';
import { AuthError } from './errors.js';
import type { Terminal } from './prompt.js';

export interface Io extends Terminal {
  stdout: NodeJS.WritableStream;
}

export type Env = Record<string, string | undefined>;

export class CliContext {
  readonly store: CredentialStore;
  private apiClient?: ApiClient;

  constructor(
    readonly args: ParsedArgs,
    readonly io: Io,
    readonly env: Env,
  ) {
    this.store = new CredentialStore(credentialsPath(env));
  }

  get json(): boolean {
    return this.args.flag('json');
  }

  get debug(): boolean {
    return this.args.flag('debug');
  }

  /** Colours for stdout: only on a terminal and without NO_COLOR (colour.ts). */
  get paint(): Paint {
    return painter(colourEnabled(this.io.stdout as { isTTY?: boolean }, this.env));
  }

  /** A line (or block) on stdout. */
  print(text: string): void {
    if (text) this.io.stdout.write(`${text}\n`);
  }

  /** Notes and warnings for the person, on stderr: never in the way of piped output. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** `--server`, else `$TESSERA_SERVER`, else the server of the last login. */
  serverOrNull(): string | null {
    const chosen = this.args.string('server') || this.env.TESSERA_SERVER || this.store.read().current;
    return chosen ? normaliseServer(chosen) : null;
  }

  server(): string {
    const server = this.serverOrNull();
    if (!server) throw new AuthError('no server chosen: run tessera login --server URL (or set TESSERA_SERVER)');
    return server;
  }

  /** For the chosen server. `request` uses the stored login; `call` only what it is given. */
  client(): ApiClient {
    this.apiClient ??= new ApiClient({
      server: this.server(),
      store: this.store,
      envToken: this.env.TESSERA_TOKEN || undefined,
      trace: this.debug ? (line) => this.note(line) : undefined,
    });
    return this.apiClient;
  }
}

/** A command: its declaration (for parsing and help) and what it does. */
export interface Command {
  spec: CommandSpec;
  run(ctx: CliContext): Promise<void>;
}
