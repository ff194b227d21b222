/**
 * Several gateways starting at once on an empty store (deploy/compose.yaml's two, a Kubernetes
 * Deployment's replicas) all try to create the bootstrap admin: exactly one does, and none of
 * the others fails to start.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { UserService } from '../../src/identity/users.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

describe('UserService.ensureAdmin', () => {
  it('lets one of several concurrent starts create the admin and the others go on', async () => {
    const store = new MemoryStore({ auditRetentionMs: 86_400_000 });
    const gateways = Array.from({ length: 3 }, () => new UserService(store, parseConfig({ passwords: { scryptCost: 1024 } }), () => Date.now()));
    const created = await Promise.all(gateways.map((users) => users.ensureAdmin('bootstrap-admin-password')));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await store.findUserByName('admin'))?.role).toBe('admin');
    expect(await gateways[0]!.ensureAdmin('another-password')).toBe(false);
  });
});
