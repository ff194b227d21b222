import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';

/** The gateway's own loader, reading the text as the mounted file it is in the pod. */
export function loadConfigText(text: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-deploy-'));
  try {
    writeFileSync(join(dir, 'tessera.yaml'), text);
    return loadConfig({ ...env, TESSERA_CONFIG: join(dir, 'tessera.yaml') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
