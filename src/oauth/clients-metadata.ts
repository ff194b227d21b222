/**
 * Turns Tessera's client registry (config `clients`) into oidc-provider client metadata. One
 * registry: the same entries authenticate at introspection and at the provider's endpoints.
 */
import type { ClientMetadata } from 'oidc-provider';
import type { ClientConfig } from '../config/schema.js';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';

/** The CLI's public client, always present unless the config defines its own `tessera-cli`. */
export const CLI_CLIENT_ID = 'tessera-cli';

function defaultGrants(client: ClientConfig): string[] {
  if (client.grantTypes) return client.grantTypes;
  if (client.redirectUris.length) return ['authorization_code', 'refresh_token'];
  return client.public ? [DEVICE, 'refresh_token'] : ['client_credentials'];
}

/** Clients configured only with a secret hash serve introspection of Tessera tokens only. */
export function providerClients(clients: ClientConfig[], cliClient = true): ClientMetadata[] {
  const list = clients
    .filter((c) => c.public || c.secret)
    .map((c): ClientMetadata => {
      const grants = defaultGrants(c);
      return {
        client_id: c.id,
        ...(c.public ? { token_endpoint_auth_method: 'none' } : { client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic' }),
        // RFC 9701: signed introspection answers when the resource server asks with Accept.
        ...(c.public ? {} : { introspection_signed_response_alg: 'RS256' }),
        client_name: c.name ?? c.id,
        grant_types: grants,
        response_types: grants.includes('authorization_code') ? ['code'] : [],
        redirect_uris: c.redirectUris,
        post_logout_redirect_uris: c.postLogoutRedirectUris,
        'tessera:first_party': c.firstParty,
        'tessera:resources': c.resources,
      };
    });
  // `oidc.cliClient: false` leaves it out: the device flow then refuses it as an unknown client.
  if (cliClient && !clients.some((c) => c.id === CLI_CLIENT_ID)) {
    list.push({
      client_id: CLI_CLIENT_ID,
      client_name: 'Tessera CLI',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      'tessera:first_party': true,
      'tessera:resources': [],
    });
  }
  return list;
}
