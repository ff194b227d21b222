import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { AUDIT_RETENTION_MS, LAST_USED_PRECISION_MS, storeContract } from './contract.js';
import { snapshotContract } from './snapshot-contract.js';
import { outboxContract } from './outbox-contract.js';

storeContract('MemoryStore', async () => ({
  store: new MemoryStore({ auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS }),
  cleanup: async () => {},
}));

snapshotContract('MemoryStore', async () => ({
  store: new MemoryStore({ auditRetentionMs: AUDIT_RETENTION_MS, lastUsedPrecisionMs: LAST_USED_PRECISION_MS }),
  cleanup: async () => {},
}));

outboxContract('MemoryStore', async () => ({
  store: new MemoryStore({ auditRetentionMs: AUDIT_RETENTION_MS }),
  cleanup: async () => {},
}));
