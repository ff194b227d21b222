/**
 * Shared Signals and webhooks, assembled: the stream registry, the publisher (an audit trail
 * subscriber: outcomes become queued deliveries) and this gateway's delivery worker. The worker
 * starts once the OpenID Provider can name its signing key (server.ts).
 */
import type { JWK } from 'jose';
import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { TesseraConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SealedSecrets } from '../oauth/sealed-secrets.js';
import type { Store } from '../store/store.js';
import { SignalDelivery } from './delivery.js';
import { SignalPublisher } from './publisher.js';
import { StreamRegistry } from './streams.js';
import { ExpiryNotices } from './expiry-notices.js';
import { smtpMailer } from './mailer.js';

export class Signals {
  readonly streams: StreamRegistry;
  readonly publisher: SignalPublisher;
  readonly notices: ExpiryNotices;
  private delivery?: SignalDelivery;

  constructor(
    private readonly config: TesseraConfig,
    private readonly deps: { store: Store; clock: Clock; audit: AuditTrail; logger: Logger; metrics?: Metrics; secrets: SealedSecrets },
  ) {
    this.streams = new StreamRegistry(deps.store, deps.secrets);
    this.publisher = new SignalPublisher({
      store: deps.store,
      clock: deps.clock,
      issuer: config.server.issuer!,
      signals: config.signals,
      webhooks: config.webhooks,
      streams: this.streams,
      logger: deps.logger,
      kick: () => this.delivery?.kick(),
    });
    deps.audit.subscribe(this.publisher);
    this.notices = new ExpiryNotices({
      store: deps.store,
      clock: deps.clock,
      issuer: config.server.issuer!,
      notifications: config.notifications,
      signals: config.signals,
      publisher: this.publisher,
      kick: () => this.delivery?.kick(),
      logger: deps.logger,
    });
  }

  start(signingKey: () => JWK): void {
    const { smtp } = this.config.notifications;
    const sendMail = smtp ? smtpMailer(smtp, this.config.signals.timeout) : undefined;
    this.delivery = new SignalDelivery({ ...this.deps, issuer: this.config.server.issuer!, signals: this.config.signals, webhooks: this.config.webhooks, streams: this.streams, signingKey, sendMail });
    this.delivery.start();
    this.notices.start();
  }

  kick(): void {
    this.delivery?.kick();
  }

  async stop(): Promise<void> {
    await this.notices.stop();
    await this.delivery?.stop();
  }
}
