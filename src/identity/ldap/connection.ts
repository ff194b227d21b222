/**
 * Connections to one directory, on top of ldapts' `Client`, with three guarantees ldapts alone
 * does not give:
 *
 * - One client, one network connection. ldapts silently reconnects when its socket has closed,
 *   and that new socket is neither bound nor StartTLS-upgraded: a password bind could then go out
 *   in clear. Each client here may open one socket; a second attempt fails instead.
 * - Bounded time. `connectTimeout` covers TCP and the ldaps handshake, `timeout` each operation,
 *   and a hard deadline also covers the StartTLS handshake (ldapts has no timer there), so a
 *   silent directory is a quick 503, never a hang.
 * - Referrals are not followed: ldapts never chases them, and callers get them back as an LDAP
 *   error (result code 10) or as search references, which they ignore loudly.
 *
 * `ServiceConnection` keeps one service-account connection for searches and opens a new bound one
 * when it has dropped; `checkPassword` uses a fresh connection per user bind, as a bind changes
 * the connection's identity.
 */
import { connect as netConnect, isIP, Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError, type SearchOptions, type SearchResult } from 'ldapts';

export interface ConnectionSettings {
  url: string;
  startTls: boolean;
  /** Certificate checks for ldaps:// and StartTLS. */
  tls: ConnectionOptions;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export type Search = (baseDn: string, options: SearchOptions) => Promise<SearchResult>;

/** The directory answered with an LDAP result code (as opposed to not answering at all). */
export function isLdapResult(err: unknown): err is ResultCodeError {
  return err instanceof ResultCodeError;
}

/** ldapts 8 reports its own timers only by message ("Operation timed out", "Connection timeout"). */
function isTimeout(err: unknown): boolean {
  return err instanceof Error && /timed out|timeout/i.test(err.message);
}

/** Rejects after `ms`, running `onExpire` (which destroys the connection) first. */
async function withDeadline<T>(ms: number, work: Promise<T>, onExpire: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire();
      reject(new Error(`LDAP operation timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A socket that fails at once: what a client gets if it tries to open a second connection. */
function refusedSocket(): Socket {
  const socket = new Socket();
  process.nextTick(() => socket.destroy(new Error('LDAP connection lost; not reconnecting on the same client')));
  return socket;
}

/** One ldapts client that may use exactly one network connection. */
export class LdapConnection {
  readonly client: Client;
  private readonly sockets: Socket[] = [];
  private destroyed = false;

  constructor(private readonly settings: ConnectionSettings) {
    const { hostname, protocol } = new URL(settings.url);
    const host = hostname.replace(/^\[|\]$/g, '');
    let plainUsed = false;
    let secureUsed = false;
    const track = <S extends Socket>(socket: S): S => {
      this.sockets.push(socket);
      return socket;
    };
    // Node checks the certificate against `servername`/`host`; SNI must not carry an IP address.
    const tlsOptions: ConnectionOptions = { ...settings.tls, host, ...(isIP(host) ? {} : { servername: host }) };
    const createConnection = (port: number, connectHost: string) => {
      if (plainUsed) return refusedSocket();
      plainUsed = true;
      return track(netConnect(port, connectHost));
    };
    // ldapts calls this for ldaps:// (port, host, options) and for the StartTLS upgrade (options with `socket`).
    const createSecureConnection = (...args: [number, string, ConnectionOptions] | [ConnectionOptions]) => {
      if (secureUsed) return refusedSocket();
      secureUsed = true;
      const options = args.length === 1 ? { ...args[0], ...tlsOptions } : { ...args[2], ...tlsOptions, port: args[0], host: args[1] };
      return track(tlsConnect(options));
    };
    this.client = new Client({
      url: settings.url,
      connectTimeout: settings.connectTimeoutMs,
      timeout: settings.timeoutMs,
      // tlsOptions only matter to ldapts for ldaps://; the hooks below apply them in every case.
      tlsOptions: protocol === 'ldaps:' ? tlsOptions : undefined,
      createConnection: createConnection as unknown as typeof netConnect,
      createSecureConnection: createSecureConnection as unknown as typeof tlsConnect,
    });
  }

  /** Connects (and upgrades with StartTLS), then binds: as `dn`, or anonymously without one. */
  async open(dn = '', password = ''): Promise<this> {
    const { startTls, connectTimeoutMs, timeoutMs } = this.settings;
    await withDeadline(connectTimeoutMs + 2 * timeoutMs, (async () => {
      if (startTls) await this.client.startTLS();
      await this.client.bind(dn, password);
    })(), () => this.destroy());
    return this;
  }

  /** Connected and not given up on. ldapts clears its flag when the socket closes. */
  get alive(): boolean {
    return !this.destroyed && this.client.isConnected;
  }

  destroy(): void {
    this.destroyed = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Polite unbind, bounded by the operation timeout, then the sockets go regardless. */
  async close(): Promise<void> {
    if (!this.destroyed && this.client.isConnected) {
      await withDeadline(this.settings.timeoutMs, this.client.unbind(), () => {}).catch(() => {});
    }
    this.destroy();
  }
}

/**
 * A password check: a fresh connection bound as `dn`. Returns whether the directory accepted the
 * password; with `then`, runs it on the user's own bound connection first (reads as the user).
 * Any LDAP answer to the bind other than success counts as a refusal: servers report wrong
 * passwords (49), but also locked or inactivated accounts (e.g. 53), in their own ways.
 * Connection failures and timeouts throw.
 */
export async function checkPassword<T>(
  settings: ConnectionSettings,
  dn: string,
  password: string,
  then: (search: Search) => Promise<T>,
  onRefused: (err: ResultCodeError) => void,
): Promise<{ ok: true; value: T } | { ok: false }> {
  // An empty password is an unauthenticated bind (RFC 4513 §5.1.2) that many servers accept.
  if (!password) return { ok: false };
  const connection = new LdapConnection(settings);
  try {
    await connection.open(dn, password);
  } catch (err) {
    connection.destroy();
    if (!isLdapResult(err)) throw err;
    if (!(err instanceof InvalidCredentialsError)) onRefused(err);
    return { ok: false };
  }
  try {
    return { ok: true, value: await then((base, options) => connection.client.search(base, options)) };
  } finally {
    await connection.close();
  }
}

/** The service-account connection, reused for every search and reopened when it drops. */
export class ServiceConnection {
  private ready: LdapConnection | undefined;
  private opening: Promise<LdapConnection> | undefined;
  private closed = false;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly credentials: { dn: string; password: string } | undefined,
  ) {}

  /** The bound connection, opening (and binding) a new one if there is none alive. */
  private async connection(): Promise<{ connection: LdapConnection; fresh: boolean }> {
    if (this.closed) throw new Error('LDAP source closed');
    if (this.ready?.alive) return { connection: this.ready, fresh: false };
    this.ready?.destroy();
    this.ready = undefined;
    this.opening ??= (async () => {
      let connection: LdapConnection | undefined;
      try {
        connection = new LdapConnection(this.settings);
        await connection.open(this.credentials?.dn, this.credentials?.password);
      } catch (err) {
        connection?.destroy();
        throw err;
      } finally {
        this.opening = undefined;
      }
      if (this.closed) connection.destroy();
      else this.ready = connection;
      return connection;
    })();
    return { connection: await this.opening, fresh: true };
  }

  /** Opens the connection if needed; throws when the directory cannot be reached or bound. */
  async check(): Promise<void> {
    await this.connection();
  }

  readonly search: Search = async (baseDn, options) => {
    const { connection, fresh } = await this.connection();
    try {
      return await connection.client.search(baseDn, options);
    } catch (err) {
      if (isLdapResult(err)) throw err;
      connection.destroy();
      // An idle connection the server (or a firewall) closed shows up only now: one more try on
      // a new connection. Not after a timeout: a slow directory must not cost twice the wait.
      if (fresh || isTimeout(err)) throw err;
      const retry = await this.connection();
      try {
        return await retry.connection.client.search(baseDn, options);
      } catch (again) {
        if (!isLdapResult(again)) retry.connection.destroy();
        throw again;
      }
    }
  };

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.ready ?? (await this.opening?.catch(() => undefined));
    this.ready = undefined;
    await connection?.close();
  }
}
