/**
 * oidc-provider's storage adapter on Tessera's store: Redis in production (so every gateway
 * instance sees the same sessions, codes and tokens), memory in the embedded default.
 * https://github.com/panva/node-oidc-provider/blob/main/example/my_adapter.js is the interface.
 */
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ProviderPayload, Store } from '../store/store.js';

/** The part of the store this uses: oidc-provider's records. */
export type ProviderRecordStore = Pick<Store, 'providerConsume' | 'providerDestroy' | 'providerFind' | 'providerFindBy' | 'providerRevokeByGrantId' | 'providerUpsert'>;

/** How long an expired device code is still recognised (seconds). */
const DEVICE_CODE_GRACE_S = 600;

export function storeAdapter(store: ProviderRecordStore) {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      // A device code is kept a while past its expiry so that polling it then answers
      // `expired_token` (RFC 8628 §3.5, which oidc-provider checks) rather than "not found".
      const ttl = expiresIn && this.model === 'DeviceCode' ? expiresIn + DEVICE_CODE_GRACE_S : expiresIn;
      await store.providerUpsert(this.model, id, payload as ProviderPayload, ttl || undefined);
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

    /**
     * oidc-provider checks `consumed` and then calls this, so two requests with the same code or
     * refresh token could both pass its check. The store's consume is atomic: the loser is
     * treated as a reuse, which ends the whole grant (RFC 9700 §4.14.2).
     */
    async consume(id: string): Promise<void> {
      if (await store.providerConsume(this.model, id, Math.floor(Date.now() / 1000))) return;
      const payload = await store.providerFind(this.model, id);
      if (payload?.grantId) {
        await store.providerRevokeByGrantId(payload.grantId);
        await store.providerDestroy('Grant', payload.grantId);
      }
      throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      await store.providerDestroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.providerRevokeByGrantId(grantId);
    }
  };
}
