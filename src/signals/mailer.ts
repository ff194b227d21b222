/**
 * E-mail through the configured SMTP relay (nodemailer: STARTTLS, pooling and auth done right).
 * Only notices go out this way; the relay's password comes from config (`${ENV_VAR}`).
 */
import nodemailer from 'nodemailer';
import type { NotificationsConfig } from './config.js';
import type { QueuedMail } from './expiry-notices.js';

export type SendMail = (mail: QueuedMail) => Promise<void>;

export function smtpMailer(smtp: NonNullable<NotificationsConfig['smtp']>, timeoutMs: number): SendMail {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return async (mail) => {
    await transport.sendMail({ from: smtp.from, to: mail.to, subject: mail.subject, text: mail.text });
  };
}
