/**
 * A throwaway redis-server for the benches and measurement scripts: a free loopback port, a
 * scratch directory of its own, no RDB snapshots and no AOF rewrites (so nothing but the measured
 * work writes to disk). `appendonly` / `appendfsync` choose the persistence under measurement.
 * Killed with this process whatever way it ends; `stop()` shuts it down and removes its directory.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

export async function startPrivateRedis({ name, appendonly = 'no', appendfsync = 'no' }) {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', appendonly, '--appendfsync', appendfsync, '--auto-aof-rewrite-percentage', '0', '--dir', dir],
    { stdio: 'ignore' },
  );
  const exited = once(proc, 'exit');
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const cleanUp = () => {
    if (running()) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanUp);
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  admin.on('error', () => {});
  const stop = async () => {
    if (running()) {
      await admin.shutdown('NOSAVE').catch(() => {});
      if (running()) proc.kill('SIGKILL');
    }
    admin.disconnect();
    await exited;
    cleanUp();
    process.off('exit', cleanUp);
  };
  for (let i = 0; ; i++) {
    try {
      await admin.connect();
      break;
    } catch (err) {
      if (i > 100 || !running()) {
        await stop();
        throw new Error(`private redis-server did not start on port ${port}: ${err.message}`);
      }
      admin.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, url: `redis://127.0.0.1:${port}`, dir, admin, stop };
}
