/**
 * Several gateways starting at once on an empty store (deploy/compose.yaml's two, a Kubernetes
 * Deployment's replicas) all try to create the bootstrap admin: exactly one does, and none of
 * the others fails to start.
 */
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/audit/trail.js';
import { parseConfig } from '../../src/config/load.js';
import { BootstrapAdmin } from '../../src/identity/admin-bootstrap.js';
import { UserService } from '../../src/identity/users.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

describe('BootstrapAdmin on several gateways at once', () => {
  it('lets one of several concurrent starts create the admin and the others go on', async () => {
    const store = new MemoryStore({ auditRetentionMs: 86_400_000 });
    const config = parseConfig({ passwords: { scryptCost: 1024 } });
    const audit = new AuditTrail({ store, clock: Date.now, retentionMs: config.audit.retention, sinks: [] });
    const lines: string[] = [];
    const gateways = Array.from({ length: 3 }, () => new BootstrapAdmin(store, new UserService(store, config, Date.now, audit), { password: 'bootstrap-admin-password', log: (l) => lines.push(l), now: Date.now }));
    const created = await Promise.all(gateways.map((bootstrap) => bootstrap.ensure()));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await store.findUserByName('admin'))?.role).toBe('admin');
    expect(await gateways[0]!.ensure()).toBe(false);
    expect(lines.filter((l) => l.includes('Created user "admin"'))).toHaveLength(1);
  });
});
