/**
 * `npm start` as a new user runs it: the compiled entry point, no config, no Redis.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCli } from '../cli/helpers.js';

function run(env: Record<string, string>, until: (output: string) => boolean) {
  const main = join(dirname(dirname(builtCli())), 'main.js');
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH!, HOME: tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    const check = () => {
      if (until(output)) resolve({ code: null, output });
    };
    child.stdout.on('data', (d) => ((output += d), check()));
    child.stderr.on('data', (d) => ((output += d), check()));
    child.on('exit', (code) => resolve({ code, output }));
  });
  return { child, done };
}

describe('starting the gateway', () => {
  it('runs on the embedded store with a loud warning and a generated admin password that works', async () => {
    const { child, done } = run({ PORT: '0', TESSERA_ISSUER: 'http://127.0.0.1' }, (out) => /listening on (http:\/\/\S+)/.test(out));
    try {
      const { output } = await done;
      expect(output).toMatch(/WARNING: no REDIS_URL set: using the embedded in-memory store/);
      const password = /generated password \(shown once\): (\S+)/.exec(output)![1]!;
      const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
      const res = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
      expect(res.status).toBe(200);
      expect((await res.json()).access_token).toMatch(/^tsa_/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('uses TESSERA_ADMIN_PASSWORD and never prints it', async () => {
    const { child, done } = run({ PORT: '0', TESSERA_ADMIN_PASSWORD: 'from-the-environment-1' }, (out) => /started in/.test(out));
    try {
      const { output } = await done;
      expect(output).toContain('password from TESSERA_ADMIN_PASSWORD');
      // After "listening": how long start-up took, from process start.
      expect(output).toMatch(/listening on \S+[^]*\n.*Tessera started in \d+ ms/);
      expect(output).not.toContain('from-the-environment-1');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('exits 2 on a bad config file, naming every bad key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'tokens:\n  maxPerUser: lots\nserver:\n  prot: 8080\n');
    const { code, output } = await run({ TESSERA_CONFIG: file }, () => false).done;
    expect(code).toBe(2);
    expect(output).toContain('tokens.maxPerUser');
    expect(output).toContain('server.prot: unknown key');
  });
});
