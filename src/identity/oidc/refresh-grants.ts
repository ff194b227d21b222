/**
 * The refresh token an upstream OpenID Provider issued at a user's last sign-in, kept for
 * re-validation (the only way to ask the provider about a user without the user). One per user
 * and source, replaced at every sign-in and every rotation, forgotten when the provider refuses
 * it. Kept in the store so every gateway instance re-validates with the same token, sealed with
 * the key-encryption key when one is set (a refresh token speaks for the user upstream); one
 * found in clear is sealed again when next read.
 */
import type { SealedSecrets } from '../../oauth/sealed-secrets.js';
import type { Store } from '../../store/store.js';

const MODEL = 'UpstreamRefreshToken';
/** Longer than any provider keeps an unused refresh token; a lapsed one means "nothing to ask with". */
const TTL_SECONDS = 400 * 86_400;

export class RefreshGrants {
  constructor(
    private readonly store: Store,
    private readonly sourceId: string,
    private readonly secrets: SealedSecrets,
  ) {}

  private key(username: string): string {
    return `${this.sourceId}:${username}`;
  }

  async keep(username: string, refreshToken: string | undefined): Promise<void> {
    if (refreshToken) await this.store.providerUpsert(MODEL, this.key(username), { refreshToken: await this.secrets.seal(refreshToken) }, TTL_SECONDS);
    else await this.forget(username);
  }

  async find(username: string): Promise<string | undefined> {
    const found = await this.store.providerFind(MODEL, this.key(username));
    if (typeof found?.refreshToken !== 'string') return undefined;
    const { secret, reseal } = await this.secrets.open(found.refreshToken);
    if (reseal) await this.keep(username, secret);
    return secret;
  }

  forget(username: string): Promise<void> {
    return this.store.providerDestroy(MODEL, this.key(username));
  }
}
