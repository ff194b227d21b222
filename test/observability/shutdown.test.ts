/**
 * SIGTERM under load, on the compiled gateway in its own process (signals are per process). The
 * 20 requests are held in flight by pausing the gateway's own throwaway Redis (CLIENT PAUSE
 * WRITE stops the token-check script, whatever the machine's speed), so the signal lands while
 * all 20 wait: they must all complete, new connections must be refused, a request that was
 * arriving gets `/readyz` 503, and the process exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { builtCli } from '../cli/helpers.js';
import { CLIENT } from '../helpers/gateway.js';
import { freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { sample } from './prometheus.js';

const ADMIN_PASSWORD = 'admin-password-for-shutdown-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request on a connection of its own (no pooling: each of the 20 is its own client). */
function post(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves true when a new TCP connection is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('graceful shutdown', () => {
  let redis: RedisServer | undefined;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
  });

  it('SIGTERM with 20 requests in flight: all complete, new connections refused, readiness 503, exit 0', async () => {
    redis = await startRedisServer();
    const port = await freePort();
    const metricsPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-shutdown-'));
    const configFile = join(dir, 'tessera.yaml');
    writeFileSync(
      configFile,
      [
        'server:',
        `  port: ${port}`,
        '  host: 127.0.0.1',
        `  issuer: http://127.0.0.1:${port}`,
        // Generous: the test ends the wait itself; a slow machine must not hit the deadline.
        '  shutdownGraceSeconds: 120',
        'store:',
        `  redisUrl: ${redis.url}`,
        // A paused Redis must hold requests, not time them out.
        '  commandTimeout: 120s',
        'passwords:',
        '  scryptCost: 1024',
        'clients:',
        `  - id: ${CLIENT.id}`,
        `    secret: ${CLIENT.secret}`,
        '    resourceServer: true',
        'metrics:',
        `  listen: 127.0.0.1:${metricsPort}`,
        '',
      ].join('\n'),
    );
    const main = join(dirname(dirname(builtCli())), 'main.js');
    child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH!, HOME: dir, TESSERA_CONFIG: configFile, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    for (let i = 0; !output.includes('Tessera listening on'); i++) {
      if (child.exitCode !== null || i > 1200) throw new Error(`gateway did not start:\n${output}`);
      await sleep(50);
    }
    const url = `http://127.0.0.1:${port}`;

    const login = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const access = (await login.json()).access_token as string;
    const created = await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'shutdown' }) });
    const pat = (await created.json()).token as string;
    expect(pat).toMatch(/^tsr_/);

    // A request that is arriving when the signal comes: its headers are not complete yet.
    const arriving: Socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => arriving.once('connect', resolve));
    let readyAnswer = '';
    arriving.on('data', (d) => (readyAnswer += d));
    arriving.write('GET /readyz HTTP/1.1\r\nHost: tessera\r\n');

    // Hold every token check: the useToken script is a write, so CLIENT PAUSE WRITE stops it.
    const side = new Redis(redis.url);
    await side.call('CLIENT', 'PAUSE', '600000', 'WRITE');
    const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
    const form = new URLSearchParams({ token: pat }).toString();
    const inFlight = Array.from({ length: 20 }, () => post(url, '/oauth2/introspect', form, { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }));
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    for (let i = 0; ; i++) {
      const gauge = sample(await (await fetch(metricsUrl)).text(), 'tessera_http_requests_in_flight');
      if (gauge >= 20) break;
      if (i > 1200) throw new Error(`only ${gauge} requests in flight`);
      await sleep(50);
    }

    child.kill('SIGTERM');
    for (let i = 0; !(await refused(port)); i++) {
      if (i > 1200) throw new Error('the gateway still accepts connections after SIGTERM');
      await sleep(50);
    }
    // Draining now: the request that was arriving is told the gateway is not ready.
    arriving.write('\r\n');
    for (let i = 0; !readyAnswer.includes('shutting_down'); i++) {
      if (i > 1200) throw new Error(`no /readyz answer: ${readyAnswer}`);
      await sleep(50);
    }
    expect(readyAnswer).toMatch(/^HTTP\/1\.1 503/);
    expect(readyAnswer.toLowerCase()).toContain('connection: close');
    expect(child.exitCode).toBeNull();

    await side.call('CLIENT', 'UNPAUSE');
    side.disconnect();
    const answers = await Promise.all(inFlight);
    expect(answers).toHaveLength(20);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body).active).toBe(true);
      // A keep-alive client must open its next connection elsewhere.
      expect(answer.connection).toBe('close');
    }
    expect(await exited).toBe(0);

    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.msg === 'request' && l.route === '/oauth2/introspect' && l.status === 200)).toHaveLength(20);
    expect(lines.some((l) => l.msg === 'received SIGTERM, shutting down')).toBe(true);
    // Present, not necessarily last: asynchronous log lines are flushed at exit, in any order.
    expect(lines.some((l) => l.msg === 'shutdown complete')).toBe(true);
    for (const secret of [pat, access, ADMIN_PASSWORD, CLIENT.secret]) expect(output).not.toContain(secret);
  }, 300_000);
});
