/**
 * Expiry notices with two gateways on one Redis: each threshold's e-mail reaches a real SMTP
 * server (smtp-server) once, and its `token-expiring` webhook a real receiver once.
 */
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis-server.js';
import { startReceiver, type ReceiverProcess } from './receiver-process.js';
import { expiryBanner } from '../../src/web/views/expiry-banner.js';
import { expiringSoon } from '../../src/signals/expiry-notices.js';

const DAY = 24 * 60 * 60 * 1000;
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Mail {
  to: string[];
  raw: string;
}

/** Unfolds headers and undoes quoted-printable, enough to read a plain-text notice. */
const readable = (raw: string) => raw.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('expiry notices', () => {
  let a: TestGateway;
  let b: TestGateway;
  let smtp: SMTPServer;
  let receiver: ReceiverProcess;
  const mails: Mail[] = [];

  beforeAll(async () => {
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: readable(Buffer.concat(chunks).toString('utf8')) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    const hookPort = await freePort();
    const config = {
      notifications: { smtp: { host: '127.0.0.1', port: smtpPort, from: 'tessera@example.org' } },
      webhooks: [{ id: 'hooks', url: `http://127.0.0.1:${hookPort}/webhook`, secret: WEBHOOK_SECRET, events: ['token-expiring'] }],
    };
    a = await startTestGateway({ config });
    b = await startTestGateway({ prefix: a.prefix, config });
    receiver = await startReceiver(hookPort, a.services.config.server.issuer!, 'unused', WEBHOOK_SECRET);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.stop();
    await receiver?.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  it('tells the owner once per threshold, however many gateways look', async () => {
    const admin = await a.login('admin', ADMIN_PASSWORD);
    await a.api('POST', '/api/v1/users', { token: admin, body: { username: 'erin', password: 'erin-password', email: 'erin@example.org' } });
    const access = await a.login('erin', 'erin-password');
    const token = await a.api('POST', '/api/v1/tokens', { token: access, body: { name: 'deploy key', expires_in: '10d' } });
    expect(token.status).toBe(201);

    // Far from expiry: nothing.
    expect((await a.services.signals.notices.runOnce()) + (await b.services.signals.notices.runOnce())).toBe(0);

    // 6 days left: the 7-day notice, claimed by exactly one of the two gateways.
    a.clock.advance(4 * DAY);
    b.clock.advance(4 * DAY);
    const claims = await Promise.all([a.services.signals.notices.runOnce(), b.services.signals.notices.runOnce(), a.services.signals.notices.runOnce()]);
    expect(claims.reduce((x, y) => x + y, 0)).toBe(1);
    await until(() => mails.length >= 1, 'the 7-day e-mail');
    expect(mails[0]!.to).toEqual(['erin@example.org']);
    expect(mails[0]!.raw).toMatch(/Subject: Your Tessera token expires in 6 days: deploy key/);
    expect(mails[0]!.raw).toContain(token.body.id);
    expect(mails[0]!.raw).not.toMatch(/tsr_[0-9A-Za-z]{50}/); // the secret never goes out
    const hook = await receiver.waitFor((l) => l.kind === 'webhook' && l.body.type === 'token-expiring');
    expect(hook.body.data).toMatchObject({ token_id: token.body.id, token_name: 'deploy key', threshold_days: 7, days_left: 6 });

    // The next checks find it claimed.
    expect((await a.services.signals.notices.runOnce()) + (await b.services.signals.notices.runOnce())).toBe(0);

    // Within the last day: the 1-day notice, once.
    a.clock.advance(5 * DAY + DAY / 2);
    b.clock.advance(5 * DAY + DAY / 2);
    const last = await Promise.all([b.services.signals.notices.runOnce(), a.services.signals.notices.runOnce()]);
    expect(last.reduce((x, y) => x + y, 0)).toBe(1);
    await until(() => mails.length >= 2, 'the 1-day e-mail');
    expect(mails[1]!.raw).toMatch(/expires in 1 day\b/);
    // Several more delivery rounds: still two e-mails, two webhooks.
    await new Promise((r) => setTimeout(r, 1500));
    expect(mails).toHaveLength(2);
    expect(receiver.lines.filter((l) => l.kind === 'webhook' && l.body.type === 'token-expiring')).toHaveLength(2);
    expect(receiver.lines.filter((l) => l.kind === 'webhook-refused')).toEqual([]);
    await until(async () => (await a.services.store.outboxSize('mail')) === 0, 'the mail queue to empty');
  });

  it('warns on /manage_tokens about tokens within the largest threshold', async () => {
    const now = Date.now();
    const base = { userId: 'u', hash: 'h', scope: '', createdAt: now, createdBy: 'u', expiration: 'hard' as const };
    const soon = { ...base, id: 'soon', name: 'soon', expiresAt: now + 3 * DAY };
    const later = { ...base, id: 'later', name: 'later', expiresAt: now + 30 * DAY };
    const capped = { ...base, id: 'capped', name: 'capped', expiration: 'sliding' as const, expiresAt: now + DAY, slidingWindow: DAY, maxLifetimeAt: now + 2 * DAY };
    const revoked = { ...soon, id: 'revoked', revokedAt: now };
    const expiring = expiringSoon([soon, later, capped, revoked] as never, [7, 1], now);
    expect(expiring.map((t) => t.id)).toEqual(['soon', 'capped']);
    const banner = String(expiryBanner(expiring, now));
    expect(banner).toContain('2 tokens expire soon');
    expect(banner).toContain('soon (soon)');
    expect(String(expiryBanner([], now))).toBe('');
  });
});
