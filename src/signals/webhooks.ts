/**
 * Webhooks the Standard Webhooks way (standardwebhooks.com): each POST carries `webhook-id` (the
 * signal's id, the same on every retry, so a receiver drops duplicates), `webhook-timestamp`
 * (seconds, this attempt's: receivers refuse old ones against replay) and `webhook-signature`
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. A secret written `whsec_<base64>` is the
 * base64-decoded key, as the spec's libraries read it; any other string is used as its bytes.
 */
import { createHmac } from 'node:crypto';
import type { WebhookConfig } from './config.js';
import type { Signal } from './events.js';

function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function webhookHeaders(endpoint: WebhookConfig, id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(endpoint.secret, id, timestampSeconds, body),
  };
}

/** Does the endpoint want this signal (an empty filter wants all)? */
export const wants = (endpoint: WebhookConfig, signal: Signal): boolean => !endpoint.events.length || endpoint.events.includes(signal.name);

/** The JSON body: `type`, `timestamp` and `data`, the envelope Standard Webhooks recommends. */
export function webhookBody(signal: Signal, email?: string): string {
  const { userId, username, tokenId, sessionId } = signal.subject;
  return JSON.stringify({
    type: signal.name,
    timestamp: new Date(signal.time).toISOString(),
    data: {
      user: { id: userId, ...(username ? { username } : {}), ...(email ? { email } : {}) },
      ...(tokenId ? { token_id: tokenId } : {}),
      ...(sessionId ? { session_id: sessionId } : {}),
      txn: signal.txn,
      ...signal.fields,
    },
  });
}

export const webhookQueue = (endpointId: string): string => `wh.${endpointId}`;
