/**
 * Where `tessera login` keeps credentials: `$XDG_CONFIG_HOME/tessera/credentials.json` (default
 * `~/.config/tessera/credentials.json`), one entry per server URL plus the `current` server.
 * The file holds live secrets, so it is 0600 in a 0700 directory and replaced atomically (write a
 * temporary file, rename), so a crash never leaves half a file.
 */
import { closeSync, chmodSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** `tessera login` with a password: rotating refresh token, short-lived access token. */
export interface SessionCredential {
  kind: 'session';
  username: string;
  access_token: string;
  /** ISO time, by this machine's clock. */
  access_expires_at: string;
  refresh_token: string;
  refresh_expires_at: string;
}

/** `tessera login --token`: a personal access token, used as is. */
export interface TokenCredential {
  kind: 'pat';
  username: string;
  token: string;
  /** So `logout` can say which token to revoke. */
  token_id?: string;
}

/** `tessera login --sso`: tokens from the OAuth device flow, refreshed at the token endpoint. */
export interface DeviceCredential {
  kind: 'device';
  username: string;
  access_token: string;
  access_expires_at: string;
  refresh_token?: string;
  token_endpoint: string;
  client_id: string;
}

export type Credential = SessionCredential | TokenCredential | DeviceCredential;

export interface CredentialsFile {
  current?: string;
  servers: Record<string, Credential>;
  /**
   * Per server URL, the device credentials the gateway returned at the last password login
   * (`device_token`). Sent back with the next one, they make this machine a known device, which
   * failed logins from elsewhere cannot lock out. They grant no access, so logout keeps them.
   */
  devices?: Record<string, string>;
}

export function credentialsPath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'tessera', 'credentials.json');
}

/** The key of a server: scheme, host, port and path, without a trailing slash. */
export function normaliseServer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`not a URL: ${raw} (e.g. https://tessera.example.com)`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`server URL must be http(s): ${raw}`, 2);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class CredentialStore {
  constructor(readonly path: string) {}

  read(): CredentialsFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
      throw new CliError(`cannot read ${this.path}: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as CredentialsFile;
      return { current: parsed.current, servers: parsed.servers ?? {}, devices: parsed.devices };
    } catch {
      throw new CliError(`${this.path} is not valid JSON: delete it and run tessera login`);
    }
  }

  get(server: string): Credential | undefined {
    return this.read().servers[server];
  }

  put(server: string, credential: Credential, makeCurrent = false): void {
    const file = this.read();
    file.servers[server] = credential;
    if (makeCurrent) file.current = server;
    this.write(file);
  }

  deviceToken(server: string): string | undefined {
    return this.read().devices?.[server];
  }

  rememberDevice(server: string, deviceToken: string): void {
    const file = this.read();
    file.devices = { ...file.devices, [server]: deviceToken };
    this.write(file);
  }

  remove(server: string): boolean {
    const file = this.read();
    if (!file.servers[server]) return false;
    delete file.servers[server];
    this.write(file);
    return true;
  }

  private write(file: CredentialsFile): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const temp = `${this.path}.${process.pid}.tmp`;
    // The mode is set at creation: the secret is never readable by others, even for an instant.
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, this.path);
  }

  /**
   * Runs `fn` holding a lock file beside the credentials. Refresh tokens rotate and the gateway
   * revokes the whole login when a rotated one comes back (RFC 9700 §4.14.2), so two commands
   * refreshing at once must take turns: the second re-reads and uses the first one's tokens.
   */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path}.lock`;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = Date.now() - (statMtime(lock) ?? Date.now());
        if (age > LOCK_STALE_MS) {
          unlinkQuietly(lock); // left by a process that died mid-refresh
          continue;
        }
        if (Date.now() > deadline) throw new CliError(`${lock} is held by another tessera command; remove it if none is running`);
        await sleep(50);
      }
    }
    try {
      return await fn();
    } finally {
      unlinkQuietly(lock);
    }
  }
}

function statMtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
