/**
 * oidc-provider's storage adapter on Tessera's store: Redis in production (so every gateway
 * instance sees the same sessions, codes and tokens), memory in the embedded default.
 * https://github.com/panva/node-oidc-provider/blob/main/example/my_adapter.js is the interface.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ProviderPayload, Store } from '../store/store.js';

export function storeAdapter(store: Store) {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await store.providerUpsert(this.model, id, payload as ProviderPayload, expiresIn || undefined);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return ((await store.providerFind(this.model, id)) as AdapterPayload | null) ?? undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return ((await store.providerFindBy(this.model, 'userCode', userCode)) as AdapterPayload | null) ?? undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return ((await store.providerFindBy(this.model, 'uid', uid)) as AdapterPayload | null) ?? undefined;
    }

    async consume(id: string): Promise<void> {
      await store.providerConsume(this.model, id, Math.floor(Date.now() / 1000));
    }

    async destroy(id: string): Promise<void> {
      await store.providerDestroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.providerRevokeByGrantId(grantId);
    }
  };
}
