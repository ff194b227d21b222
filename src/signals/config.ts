/**
 * `signals` and `webhooks`: telling the systems that trust Tessera's tokens when that trust ends
 * (docs/signals.md). SSF receivers are OAuth clients with `ssf: true`; they create their streams
 * through the SSF management API. Webhook endpoints are configured here.
 */
import { z } from 'zod';
import { durationField } from '../config/duration.js';

/** The event names a webhook filter (and a stream's `events_requested`) select from; see events.ts. */
export const SIGNAL_NAMES = [
  'session-revoked',
  'credential-change',
  'token-claims-change',
  'account-disabled',
  'account-enabled',
  'account-purged',
  'token-expiring',
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

export const signalsSchema = z.strictObject({
  /**
   * How often each gateway looks for due deliveries. Deliveries made by this gateway's own
   * actions start at once; this bounds the wait for retries and for other gateways' events.
   */
  pollInterval: durationField('250ms'),
  /**
   * How long a claimed delivery is reserved for the gateway that claimed it. Longer than
   * `timeout`, so two gateways never send one event at once; a gateway that dies mid-delivery
   * hands it over after this.
   */
  lease: durationField('30s'),
  /** How long one HTTP delivery may take. */
  timeout: durationField('10s'),
  /** First retry delay; doubled per attempt up to `maxBackoff` (with jitter). */
  backoff: durationField('1s'),
  maxBackoff: durationField('5m'),
  /** Attempts before an event is given up for a receiver (logged in its delivery log). */
  maxAttempts: z.number().int().min(1).max(1000).default(20),
  /** Events kept per queue (a receiver that is down for long): past it new events are refused and logged. */
  maxQueued: z.number().int().min(10).max(1_000_000).default(10_000),
  /** Delivery log entries kept per webhook endpoint or stream. */
  logSize: z.number().int().min(1).max(10_000).default(100),
});

const webhook = z.strictObject({
  /** Names the endpoint in the admin API (`/api/v1/admin/webhooks/{id}/deliveries`). */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)'),
  /** Where events are POSTed. https in production; http is accepted for loopback and tests. */
  url: z.url(),
  /**
   * The signing secret, Standard Webhooks style `whsec_<base64>` (or any string of 24+ characters,
   * used as it stands). Write `${ENV_VAR}` to read it from the environment.
   */
  secret: z.string().min(24),
  /** Which events (SIGNAL_NAMES); empty: all of them. */
  events: z.array(z.enum(SIGNAL_NAMES)).default([]),
});

export const webhooksSchema = z.array(webhook).default([]).refine((list) => new Set(list.map((w) => w.id)).size === list.length, 'webhook ids must be unique');

export type SignalsConfig = z.output<typeof signalsSchema>;
export type WebhookConfig = z.output<typeof webhook>;

const smtp = z.strictObject({
  /** The SMTP relay, e.g. smtp.example.org. */
  host: z.string().min(1),
  /** 587 (STARTTLS) by default; 465 with `secure: true`. */
  port: z.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: z.boolean().default(false),
  /** Login at the relay, if it wants one; write the password as `${ENV_VAR}`. */
  user: z.string().optional(),
  password: z.string().optional(),
  /** The From address of notices. */
  from: z.string().min(3),
});

export const notificationsSchema = z.strictObject({
  /**
   * Days before a PAT's hard expiry (or a sliding token's absolute cap) at which its owner is
   * told, once per threshold: by e-mail (when `smtp` is set and the user has an address), as a
   * `token-expiring` webhook, and in a banner on /manage_tokens. GitLab warns 7 days ahead;
   * the second, last-day notice catches the first one missed.
   */
  expiryDays: z.array(z.number().int().min(1).max(365)).default([7, 1]),
  /** How often each gateway looks for tokens crossing a threshold (a claim in the store makes each notice go out once). */
  checkInterval: durationField('1h'),
  /** Where e-mail goes out; none: no e-mail (webhooks and the banner still tell). */
  smtp: smtp.optional(),
});

export type NotificationsConfig = z.output<typeof notificationsSchema>;
