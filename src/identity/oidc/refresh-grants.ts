/**
 * The refresh token an upstream OpenID Provider issued at a user's last sign-in, kept for
 * re-validation (the only way to ask the provider about a user without the user). One per user
 * and source, replaced at every sign-in and every rotation, forgotten when the provider refuses
 * it. Kept in the store (a transient value of kind `upstream-refresh-token`) so every gateway
 * instance re-validates with the same token, sealed with the key-encryption key when one is set
 * (a refresh token speaks for the user upstream); one found in clear is sealed again when next read.
 *
 * Upgrade: these tokens used to be kept among oidc-provider's records (model
 * `UpstreamRefreshToken`). One found only there is moved on first read, so a user signed in
 * before the upgrade is still re-validated (and removed upstream, still loses access).
 */
import type { Clock } from '../../clock.js';
import type { SealedSecrets } from '../../oauth/sealed-secrets.js';
import type { Store } from '../../store/store.js';

/** The part of the store refresh grants use (the provider records only to move old ones). */
export type RefreshGrantStore = Pick<Store, 'putTransient' | 'peekTransient' | 'takeTransient' | 'providerFind' | 'providerDestroy'>;

const KIND = 'upstream-refresh-token';
const LEGACY_MODEL = 'UpstreamRefreshToken';
/** Longer than any provider keeps an unused refresh token; a lapsed one means "nothing to ask with". */
const TTL_MS = 400 * 86_400_000;

export class RefreshGrants {
  constructor(
    private readonly store: RefreshGrantStore,
    private readonly sourceId: string,
    private readonly clock: Clock,
    private readonly secrets: SealedSecrets,
  ) {}

  private key(username: string): string {
    return `${this.sourceId}:${username}`;
  }

  async keep(username: string, refreshToken: string | undefined): Promise<void> {
    if (refreshToken) await this.store.putTransient(KIND, this.key(username), { refreshToken: await this.secrets.seal(refreshToken, { use: 'upstream-refresh-token', until: this.clock() + TTL_MS }) }, TTL_MS, this.clock());
    else await this.forget(username);
  }

  async find(username: string): Promise<string | undefined> {
    const found = (await this.store.peekTransient(KIND, this.key(username), this.clock())) ?? (await this.moveLegacy(username));
    if (typeof found?.refreshToken !== 'string') return undefined;
    const { secret, reseal } = await this.secrets.open(found.refreshToken);
    if (reseal) await this.keep(username, secret);
    return secret;
  }

  async forget(username: string): Promise<void> {
    // Both places: a token left in the old one would be moved back by the next `find`.
    await Promise.all([this.store.takeTransient(KIND, this.key(username), this.clock()), this.store.providerDestroy(LEGACY_MODEL, this.key(username))]);
  }

  /** A token kept the old way: written to its new place first, then removed from the old. */
  private async moveLegacy(username: string): Promise<{ refreshToken?: unknown } | null> {
    const legacy = await this.store.providerFind(LEGACY_MODEL, this.key(username));
    if (typeof legacy?.refreshToken !== 'string') return null;
    await this.store.putTransient(KIND, this.key(username), { refreshToken: legacy.refreshToken }, TTL_MS, this.clock());
    await this.store.providerDestroy(LEGACY_MODEL, this.key(username));
    return { refreshToken: legacy.refreshToken };
  }
}
