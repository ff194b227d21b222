/**
 * What each client may obtain: `clients[].allowedResources` and `clients[].allowedScopes`. A
 * client gets the OIDC scopes and, beyond them, only the resources (RFC 8707) and the resource
 * scopes its entry lists; nothing is allowed by default, so adding a client or a resource never
 * widens what an existing client can get. `clients[].resources` is a different list: the APIs a
 * client serves (whose tokens it may introspect), not the ones it may ask tokens for.
 *
 * The provider asks for a resource's information through `getResourceServerInfo` at every
 * endpoint that resolves one (authorization, device authorization, token: client credentials,
 * code, device code, refresh), so the check sits there: an unlisted resource is `invalid_target`
 * (RFC 8707 §2), a listed resource's scope the client is not allowed is `invalid_scope` (RFC 6749
 * §5.2) when requested and left out of what the resource offers this client otherwise.
 */
import { errors } from 'oidc-provider';
import type { ClientConfig, ResourceConfig } from '../config/schema.js';
import { InvalidScope, InvalidTarget } from '../errors.js';

export interface ClientAllowance {
  resources: readonly string[];
  scopes: readonly string[];
}

const NOTHING: ClientAllowance = { resources: [], scopes: [] };

export class ClientPolicy {
  private readonly byId: Map<string, ClientAllowance>;

  constructor(clients: readonly ClientConfig[]) {
    this.byId = new Map(clients.map((c) => [c.id, { resources: c.allowedResources, scopes: c.allowedScopes }]));
  }

  /** Clients not in the config (the built-in CLI client) are allowed nothing beyond OIDC. */
  allowance(clientId: string | undefined): ClientAllowance {
    return (clientId !== undefined && this.byId.get(clientId)) || NOTHING;
  }

  /**
   * The resource's scopes this client may hold. Throws InvalidTarget for a resource the client
   * may not obtain, InvalidScope for a requested scope of the resource the client may not hold.
   */
  scopesFor(clientId: string | undefined, resource: ResourceConfig, requested: readonly string[]): string[] {
    const allowed = this.allowance(clientId);
    if (!allowed.resources.includes(resource.indicator)) {
      throw new InvalidTarget(`client ${clientId ?? '(none)'} may not obtain tokens for resource ${resource.indicator}`);
    }
    const refused = requested.find((s) => resource.scopes.includes(s) && !allowed.scopes.includes(s));
    if (refused !== undefined) throw new InvalidScope(`client ${clientId} may not obtain scope ${refused}`);
    return resource.scopes.filter((s) => allowed.scopes.includes(s));
  }

  /** `scopesFor` inside oidc-provider's hooks: its own errors (it renders only those), a space-separated answer. */
  providerScopesFor(clientId: string | undefined, resource: ResourceConfig, scopeParam: unknown): string {
    try {
      return this.scopesFor(clientId, resource, requestedScopes(scopeParam)).join(' ');
    } catch (err) {
      throw asProviderError(err);
    }
  }
}

/** The space-separated `scope` parameter of the request being handled, as a list. */
export function requestedScopes(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** The same refusal as oidc-provider's own error, for use inside its hooks (it renders only its own). */
function asProviderError(err: unknown): unknown {
  if (err instanceof InvalidTarget) return new errors.InvalidTarget(err.message);
  if (err instanceof InvalidScope) return new errors.InvalidScope(err.message, '');
  return err;
}
