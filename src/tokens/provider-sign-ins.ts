/**
 * Sign-ins through Tessera's OpenID Provider, as the user's list of running sign-ins shows them:
 * one per provider Grant (the consent a client holds for the account, with the tokens issued
 * under it). The CLI's `tessera login --sso` is the grant of the built-in `tessera-cli` client
 * (kind `sso`); every other client is a relying party that signed the user in (`oidc-client`).
 *
 * Signing one out removes the grant with every token and code issued under it, so its refresh
 * token stops working at once; the provider's own browser session (single sign-on cookie) stays.
 */
import type { AuditTrail } from '../audit/trail.js';
import type { ClientConfig } from '../config/schema.js';
import { CLI_CLIENT_ID } from '../oauth/clients-metadata.js';
import type { ProviderGrantRecords, ProviderPayload, Store } from '../store/store.js';

export interface ProviderSignIn {
  /** The provider's grant id. */
  id: string;
  kind: 'sso' | 'oidc-client';
  clientId: string;
  clientName: string;
  createdAt: number;
  /** When a token was last issued through the refresh_token grant; absent: never refreshed. */
  lastRefreshAt?: number;
  /** When the grant itself ends; absent: it has no end of its own. */
  expiresAt?: number;
  /** Everything granted: the OpenID scopes and the scopes per API (resource indicator). */
  scopes: string[];
}

const seconds = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value * 1000 : undefined);

/** oidc-provider keeps granted scopes as space-separated strings: `openid.scope`, `resources[indicator]`. */
function grantedScopes(grant: ProviderPayload): string[] {
  const openid = (grant.openid as { scope?: unknown } | undefined)?.scope;
  const resources = Object.values((grant.resources as Record<string, unknown> | undefined) ?? {});
  const all = [openid, ...resources].filter((s): s is string => typeof s === 'string').flatMap((s) => s.split(' '));
  return [...new Set(all.filter(Boolean))];
}

/** Every access token issued through a refresh carries `refresh_token` in its grant type (`gty`). */
function lastRefresh(members: ProviderPayload[]): number | undefined {
  const refreshed = members
    .filter((m) => m.kind === 'AccessToken' && typeof m.gty === 'string' && m.gty.split(' ').includes('refresh_token'))
    .map((m) => seconds(m.iat))
    .filter((t) => t !== undefined);
  return refreshed.length ? Math.max(...refreshed) : undefined;
}

export class ProviderSignIns {
  private readonly names: Map<string, string>;

  constructor(
    private readonly store: Store,
    clients: ClientConfig[],
    private readonly audit: AuditTrail,
  ) {
    this.names = new Map([[CLI_CLIENT_ID, 'Tessera CLI'], ...clients.map((c): [string, string] => [c.id, c.name ?? c.id])]);
  }

  private present({ id, grant, members }: ProviderGrantRecords): ProviderSignIn {
    const clientId = String(grant.clientId ?? '');
    const lastRefreshAt = lastRefresh(members);
    const expiresAt = seconds(grant.exp);
    return {
      id,
      kind: clientId === CLI_CLIENT_ID ? 'sso' : 'oidc-client',
      clientId,
      clientName: this.names.get(clientId) ?? clientId,
      createdAt: seconds(grant.iat) ?? 0,
      ...(lastRefreshAt === undefined ? {} : { lastRefreshAt }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      scopes: grantedScopes(grant),
    };
  }

  /** The user's running provider sign-ins, oldest first. */
  async list(userId: string): Promise<ProviderSignIn[]> {
    const grants = await this.store.providerGrantsOfAccount(userId);
    return grants.map((g) => this.present(g)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Ends one of the user's grants with all its tokens. False when the user holds no such grant. */
  async end(userId: string, grantId: string): Promise<boolean> {
    const grant = (await this.list(userId)).find((g) => g.id === grantId);
    if (!grant) return false;
    const event = { type: 'oidc.grant_revoked' as const, target: { userId, clientId: grant.clientId }, details: { grantId } };
    await this.audit.around(event, async () => {
      await this.store.providerRevokeByGrantId(grantId);
      await this.store.providerDestroy('Grant', grantId);
    });
    return true;
  }
}
