import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { EmailConfig } from '../../config';

/** One email, ready to go: rendered, addressed, its Message-ID derived from the delivery. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With its angle brackets: `<delivery-12.notification-34@herald.example>`. */
  messageId: string;
  headers: Record<string, string>;
}

export interface Mailer {
  /** SMTP, or .eml files when no SMTP server is configured. */
  readonly kind: 'smtp' | 'file';
  /** Resolves with the id the provider knows the message by; rejects with nodemailer's error (see classify). */
  send(message: MailMessage): Promise<{ providerMessageId: string }>;
  close(): void;
}

/**
 * nodemailer over SMTP_URL (a pool of `maxConnections`, STARTTLS whenever the server offers it), or, without
 * SMTP_URL, each message written whole as an .eml file under MAIL_DIR: a newcomer reads what would have gone
 * out, and the delivery is recorded as sent all the same.
 */
export function createMailer(config: EmailConfig, opts: { maxConnections?: number } = {}): Mailer {
  if (config.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: config.smtpUrl,
      pool: true,
      maxConnections: opts.maxConnections ?? 5,
      // Fail fast on a dead server: the job's retry is the patience, not a socket left hanging.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return {
      kind: 'smtp',
      async send(m) {
        const info = await transport.sendMail({ from: config.from, ...m });
        return { providerMessageId: info.messageId || m.messageId };
      },
      close: () => transport.close(),
    };
  }
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'file',
    async send(m) {
      const info = await stream.sendMail({ from: config.from, ...m });
      await writeAtomically(config.mailDir, emlName(m.messageId), info.message as Buffer);
      return { providerMessageId: info.messageId || m.messageId };
    },
    close: () => stream.close(),
  };
}

/** Sortable by time, then recognisable by its delivery: `20261129T152400Z-delivery-12.notification-34.eml`. */
function emlName(messageId: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const local = messageId.replace(/^<|>$/g, '').split('@')[0].replace(/[^A-Za-z0-9._-]/g, '_');
  return `${stamp}-${local}.eml`;
}

/** A reader (or a crash) never sees half a message: write a temp file in the same directory, then rename. */
async function writeAtomically(dir: string, name: string, data: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path.join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** What a failed send means for its delivery. */
export type SendFailure = { kind: 'transient' | 'permanent'; reason: string };

/**
 * A 5xx reply about this message (recipient refused, content rejected) is permanent: trying again gets the
 * same answer. Everything else is transient and retried with the job: 4xx (greylisting, mailbox busy), refused
 * or dropped connections, timeouts, and failed authentication (a configuration problem the admin fixes, after
 * which the retry goes through).
 */
export function classifySendError(err: unknown): SendFailure {
  const e = err as { responseCode?: number; code?: string; response?: string; message?: string };
  const reason = String(e.response || e.message || err).slice(0, 500);
  const code = Number(e.responseCode);
  if (code >= 500 && code < 600 && e.code !== 'EAUTH') return { kind: 'permanent', reason };
  return { kind: 'transient', reason };
}
