/** Starts test/signals/fixtures/receiver.mjs as its own process and collects what it accepted. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const SSF_CLIENT = { id: 'ssf-receiver', secret: 'ssf-receiver-secret-0123456789abcdef' };
export const basic = (c: { id: string; secret: string }): string => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

const SCRIPT = fileURLToPath(new URL('./fixtures/receiver.mjs', import.meta.url));

export interface ReceiverProcess {
  lines: Record<string, any>[];
  /** Resolves with the first line (from `from` on) that `match` accepts; generous timeout. */
  waitFor(match: (line: Record<string, any>) => boolean, timeoutMs?: number, from?: number): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

export async function startReceiver(port: number, issuer: string, audience: string, secret: string): Promise<ReceiverProcess> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT, String(port), issuer, audience, secret], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, any>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, any>);
    for (const wake of waiters) wake();
  });
  const waitFor: ReceiverProcess['waitFor'] = (match, timeoutMs = 20_000, from = 0) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.slice(from).find(match);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`receiver: nothing matched within ${timeoutMs} ms; got ${JSON.stringify(lines).slice(0, 2000)}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  await waitFor((l) => l.kind === 'listening');
  return {
    lines,
    waitFor,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
