/**
 * A throwaway OpenLDAP `slapd` for the LDAP tests: its own config, database, CA and server
 * certificate in a temp dir, listening on spare loopback ports (ldap:// with StartTLS, and
 * ldaps://). It never touches a system slapd the Debian package may have started on 389.
 *
 * The fixture (test/fixtures/ldap/users.ldif) is loaded with `ldapadd` through the running
 * server rather than `slapadd`, so the memberof overlay maintains `memberOf` as a real
 * directory would. slapd runs in the foreground with stats logging (-d 256), so a test can read
 * which BINDs reached the server.
 *
 * Needs `slapd`, `ldap-utils` and `openssl` (Debian: apt-get install -y slapd ldap-utils).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';
import { promisify } from 'node:util';
import { Client } from 'ldapts';

const run = promisify(execFile);

export const BASE_DN = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const ROOT_PASSWORD = 'slapd-root-secret';
export const SERVICE_DN = `cn=tessera,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'tessera-service-secret';
const FIXTURE = fileURLToPath(new URL('../fixtures/ldap/users.ldif', import.meta.url));
// Debian installs slapd in /usr/sbin, which a non-root PATH often lacks; TESSERA_SLAPD names
// another build (scripts/test-prereqs.sh checks the same file).
const SLAPD = process.env.TESSERA_SLAPD ?? (existsSync('/usr/sbin/slapd') ? '/usr/sbin/slapd' : 'slapd');

export interface Slapd {
  /** ldap://127.0.0.1:PORT (plain; StartTLS offered). */
  url: string;
  /** ldaps://127.0.0.1:PORT2 */
  ldapsUrl: string;
  /** PEM of the CA that signed the server certificate, and the file holding it. */
  caPem: string;
  caFile: string;
  process: ChildProcess;
  /** Everything slapd logged so far (stats: one line per connection/operation). */
  output(): string;
  /** A client bound as the rootdn, for tests that change the directory. Unbind it after use. */
  admin(): Promise<Client>;
  /** Kills slapd and starts it again on the same ports and data: every open connection drops. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a directory that accepts TCP connections but never answers. */
  /** SIGSTOP, then waits until every slapd thread is stopped (a group stop is not immediate). */
  pause(): Promise<void>;
  resume(): void;
  /** Kills slapd and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export { freePort };

/** A CA and a server certificate for 127.0.0.1/localhost, valid for a day, made for this run only. */
async function makeCertificates(dir: string): Promise<void> {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-subj', '/CN=Tessera test CA', '-days', '1', '-keyout', p('ca-key.pem'), '-out', p('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-subj', '/CN=localhost', '-keyout', p('server-key.pem'), '-out', p('server.csr')]);
  await writeFile(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca-key.pem'), '-CAcreateserial',
    '-days', '1', '-extfile', p('server.ext'), '-out', p('server.pem')]);
}

function slapdConf(dir: string): string {
  return `
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server-key.pem

database mdb
maxsize 16777216
suffix "${BASE_DN}"
rootdn "${ROOT_DN}"
rootpw ${ROOT_PASSWORD}
directory ${dir}/data
overlay memberof
# Like a typical corporate directory: nothing is readable anonymously.
access to attrs=userPassword by anonymous auth by * none
access to * by users read by anonymous auth
`;
}

async function bindsAsRoot(url: string): Promise<boolean> {
  const client = new Client({ url, connectTimeout: 300, timeout: 300 });
  try {
    await client.bind(ROOT_DN, ROOT_PASSWORD);
    return true;
  } catch {
    return false;
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** A running slapd process: its output, and a way to kill it and wait. */
interface SlapdProcess {
  child: ChildProcess;
  kill(): Promise<void>;
}

async function spawnSlapd(dir: string, url: string, ldapsUrl: string, log: (text: string) => void, timeoutMs: number): Promise<SlapdProcess> {
  const child = spawn(SLAPD, ['-h', `${url}/ ${ldapsUrl}/`, '-f', join(dir, 'slapd.conf'), '-d', '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    log(d.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT'); // in case a test left it paused
      child.kill('SIGKILL');
    }
    await exited;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`cannot start slapd (apt-get install -y slapd ldap-utils): ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}:\n${output}`);
    if (await bindsAsRoot(url)) return { child, kill };
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`slapd on ${url} did not answer:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSlapd(options: { startTimeoutMs?: number } = {}): Promise<Slapd> {
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'tessera-slapd-'));
  let output = '';
  let current: SlapdProcess | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await current?.kill();
    await rm(dir, { recursive: true, force: true });
  };

  const [port, tlsPort] = [await freePort(), await freePort()];
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  try {
    await mkdir(join(dir, 'data'));
    await makeCertificates(dir);
    await writeFile(join(dir, 'slapd.conf'), slapdConf(dir));
    current = await spawnSlapd(dir, url, ldapsUrl, (text) => (output += text), timeoutMs);
    await run('ldapadd', ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, '-f', FIXTURE]);
  } catch (err) {
    await stop();
    throw new Error(`starting slapd failed: ${(err as { stderr?: string }).stderr || (err as Error).message}`);
  }

  const caPem = await readFile(join(dir, 'ca.pem'), 'utf8');
  return {
    url,
    ldapsUrl,
    caPem,
    caFile: join(dir, 'ca.pem'),
    get process() {
      return current!.child;
    },
    output: () => output,
    async admin() {
      const client = new Client({ url, connectTimeout: 1000, timeout: 2000 });
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return client;
    },
    async pause() {
      const pid = current?.child.pid;
      if (!pid) return;
      current!.child.kill('SIGSTOP');
      // Threads stop as they are next scheduled: on a loaded machine one may still answer a
      // request already read. Wait until /proc shows every thread stopped ('T').
      for (let i = 0; i < 400; i++) {
        const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
        const states = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').then((st) => st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3)).catch(() => 'T')));
        if (states.every((state) => state === 'T' || state === 't')) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('slapd did not stop after SIGSTOP');
    },
    resume: () => void current?.child.kill('SIGCONT'),
    async restart() {
      await current?.kill();
      current = await spawnSlapd(dir, url, ldapsUrl, (text) => (output += text), timeoutMs);
    },
    stop,
  };
}
