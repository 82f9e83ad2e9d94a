import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { EmailConfig } from '../../../config';
import { EmailSender, TransientSendError, createMailer, verifyUnsubscribeToken, type Mailer } from '../../../channels/email';
import { DeliveryService } from '../../../services/deliveries';
import { createTestContext, type TestContext } from '../../support/harness';
import { expectInOrder, startSmtpSink, type SmtpSink } from '../../support/smtp-sink';

/** mailparser turns List-* headers into objects; the tests check the header lines as they were sent. */
function rawHeader(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name)?.line ?? '';
  return line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}

const SITE = { publicUrl: 'https://herald.test.example', secret: 'test-secret-test-secret-test-secret-123' };

describe('email channel: transport, messages, outcomes', () => {
  let ctx: TestContext;
  let smtp: SmtpSink;
  let deliveries: DeliveryService;
  let mailer: Mailer;
  let sender: EmailSender;
  let alice: { id: number; email: string };
  let bob: { id: number; email: string };
  let courseA: number;
  let courseB: number;

  const config = (over: Partial<EmailConfig>): EmailConfig => ({
    from: 'Herald <herald@test.example>',
    unreadDelaySeconds: 600,
    mailDir: '/nonexistent',
    ...over,
  });

  beforeAll(async () => {
    ctx = await createTestContext();
    smtp = await startSmtpSink();
    deliveries = new DeliveryService({ sequelize: ctx.sequelize });
    mailer = createMailer(config({ smtpUrl: smtp.url }), { maxConnections: 2 });
    sender = new EmailSender({ sequelize: ctx.sequelize, deliveries, mailer, site: SITE, concurrency: 4 });
    alice = await ctx.createUser('candidate', { name: 'Alice' });
    bob = await ctx.createUser('candidate', { name: 'Bob' });
    const teacher = await ctx.createUser('instructor');
    const [rows] = await ctx.sequelize.query(
      `INSERT INTO courses (title, instructor_id) VALUES ('Zoology', :t), ('Algebra', :t) RETURNING id`,
      { replacements: { t: teacher.id } },
    );
    [courseA, courseB] = (rows as Array<{ id: number }>).map((r) => r.id);
  });
  afterEach(() => {
    smtp.received.length = 0;
    smtp.rcpt = () => null;
  });
  afterAll(async () => {
    mailer.close();
    await smtp.close();
    await ctx.close();
  });

  async function notify(recipient: number, attrs: { title?: string; message?: string; type?: string; course?: number | null } = {}) {
    const [rows] = await ctx.sequelize.query(
      `INSERT INTO notifications (recipient_id, type, title, message, course_id) VALUES (:r, :type, :title, :message, :course) RETURNING id`,
      {
        replacements: {
          r: recipient,
          type: attrs.type ?? 'announcement',
          title: attrs.title ?? 'Lecture moved',
          message: attrs.message ?? 'Room 4 instead of room 2.',
          course: attrs.course === undefined ? courseA : attrs.course,
        },
      },
    );
    return Number((rows as Array<{ id: string }>)[0].id);
  }

  test('a notification email over SMTP: subject, link, Message-ID, auto-submitted, one-click unsubscribe', async () => {
    const id = await notify(alice.id);
    const [claim] = await deliveries.claim('email', [id]);
    const report = await sender.sendEach([claim]);
    expect(report).toEqual({ sent: [claim.id], failed: [], retry: [] });

    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0];
    expect(mail.subject).toBe('Lecture moved');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0].address : null).toBe(alice.email);
    expect(mail.messageId).toBe(`<delivery-${claim.id}.notification-${id}@herald.test.example>`);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(rawHeader(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const unsubscribe = rawHeader(mail, 'list-unsubscribe');
    const m = /^<https:\/\/herald\.test\.example\/unsubscribe\/([A-Za-z0-9_.-]+)>$/.exec(unsubscribe);
    expect(m).not.toBeNull();
    expect(verifyUnsubscribeToken(SITE.secret, m![1])).toEqual({ userId: alice.id, type: 'announcement' });

    const link = `https://herald.test.example/notifications/${id}`;
    expect(mail.text).toContain('Room 4 instead of room 2.');
    expect(mail.text).toContain(link);
    expect(mail.text).toContain('Zoology');
    expect(mail.html).toContain(`href="${link}"`);

    const d = await deliveries.get(claim.id);
    expect(d).toMatchObject({ status: 'sent', provider_message_id: mail.messageId });
  });

  test('hostile titles and messages stay text: escaped in HTML, one line in the subject', async () => {
    const id = await notify(bob.id, {
      title: '<img src=x onerror=alert(1)> & "q"\r\nBcc: victim@evil.example',
      message: '<script>alert(1)</script><a href="javascript:x">click</a>',
    });
    await sender.sendEach(await deliveries.claim('email', [id]));
    const mail = smtp.received[0];
    expect(mail.subject).toBe('<img src=x onerror=alert(1)> & "q" Bcc: victim@evil.example');
    expect(mail.bcc).toBeUndefined();
    expect(mail.headers.has('bcc')).toBe(false);
    const html = String(mail.html);
    expect(html).not.toMatch(/<img src=x|<script>|<a href="javascript/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Plain text is not HTML: it shows the characters as they are.
    expect(mail.text).toContain('<script>alert(1)</script>');
  });

  test('without SMTP_URL each email is an .eml file under MAIL_DIR, written whole, and counts as sent', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-mail-'));
    const files = createMailer(config({ mailDir: path.join(dir, 'mail') }));
    try {
      const fileSender = new EmailSender({ sequelize: ctx.sequelize, deliveries, mailer: files, site: SITE });
      const id = await notify(alice.id, { title: 'Written to disk' });
      const [claim] = await deliveries.claim('email', [id]);
      expect(await fileSender.sendEach([claim])).toEqual({ sent: [claim.id], failed: [], retry: [] });
      const names = readdirSync(path.join(dir, 'mail'));
      expect(names).toEqual([expect.stringMatching(new RegExp(`^\\d{8}T\\d{6}Z-delivery-${claim.id}\\.notification-${id}\\.eml$`))]);
      const mail = await simpleParser(readFileSync(path.join(dir, 'mail', names[0])));
      expect(mail.subject).toBe('Written to disk');
      expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
      expect(mail.text).toContain(`/notifications/${id}`);
      expect(mail.html).toBeTruthy();
      expect((await deliveries.get(claim.id)).status).toBe('sent');
      expect(smtp.received).toHaveLength(0);
    } finally {
      files.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a 4xx leaves the delivery pending and throws for the retry, which then sends it once', async () => {
    const id = await notify(alice.id);
    smtp.rcpt = () => ({ code: 451, message: 'Greylisted, try again later' });
    const claimed = await deliveries.claim('email', [id]);
    const err = await sender.sendEach(claimed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientSendError);
    expect(await deliveries.get(claimed[0].id)).toMatchObject({ status: 'pending', last_error: expect.stringContaining('451') });

    smtp.rcpt = () => null;
    const retried = await deliveries.claim('email', [id]);
    expect(retried).toEqual([expect.objectContaining({ id: claimed[0].id, attempts: 2 })]);
    await sender.sendEach(retried);
    expect(smtp.received).toHaveLength(1);
    expect((await deliveries.get(claimed[0].id)).status).toBe('sent');
    // A duplicate of the job finds nothing left to send.
    expect(await deliveries.claim('email', [id])).toEqual([]);
  });

  test('SMTP unreachable is transient too', async () => {
    const down = createMailer(config({ smtpUrl: 'smtp://127.0.0.1:1' }));
    try {
      const downSender = new EmailSender({ sequelize: ctx.sequelize, deliveries, mailer: down, site: SITE });
      const id = await notify(bob.id);
      const claimed = await deliveries.claim('email', [id]);
      await expect(downSender.sendEach(claimed)).rejects.toBeInstanceOf(TransientSendError);
      expect((await deliveries.get(claimed[0].id)).status).toBe('pending');
    } finally {
      down.close();
    }
  });

  test('a 5xx for one recipient fails only that delivery, with the reason; the others are sent', async () => {
    const ids = [await notify(alice.id), await notify(bob.id), await notify(alice.id)];
    smtp.rcpt = (address) => (address === bob.email ? { code: 550, message: 'No such user here' } : null);
    const claimed = await deliveries.claim('email', ids);
    const report = await sender.sendEach(claimed);
    const bobs = claimed.find((c) => c.recipientId === bob.id)!;
    expect(report.failed).toEqual([bobs.id]);
    expect(report.sent.sort()).toEqual(claimed.filter((c) => c !== bobs).map((c) => c.id).sort());
    expect(smtp.received).toHaveLength(2);
    expect(await deliveries.get(bobs.id)).toMatchObject({ status: 'failed', last_error: expect.stringContaining('550') });
  });

  test('a digest: one email per recipient, grouped by course, settling all its deliveries', async () => {
    const ids = [
      await notify(alice.id, { title: 'Zoo quiz', course: courseA }),
      await notify(alice.id, { title: 'Algebra homework', course: courseB, type: 'course_update' }),
      await notify(alice.id, { title: 'Platform news', course: null }),
      await notify(alice.id, { title: 'Zoo trip', course: courseA, type: 'session_start' }),
      await notify(bob.id, { title: 'For Bob', course: courseB }),
    ];
    const claimed = await deliveries.claim('email', ids);
    const report = await sender.sendDigests(claimed);
    expect(report.sent.sort()).toEqual(claimed.map((c) => c.id).sort());
    expect(smtp.received).toHaveLength(2);
    const mail = smtp.received.find((m) => !Array.isArray(m.to) && m.to?.value[0].address === alice.email)!;
    expect(mail.subject).toBe('Herald digest: 4 unread notifications');
    expectInOrder(mail, ['Algebra', 'Algebra homework', 'Zoology', 'Zoo trip', 'Zoo quiz', 'General', 'Platform news']);
    const unsubscribe = /unsubscribe\/([A-Za-z0-9_.-]+)>/.exec(rawHeader(mail, 'list-unsubscribe'))![1];
    expect(verifyUnsubscribeToken(SITE.secret, unsubscribe)).toEqual({ userId: alice.id, type: 'digest' });
    const alicesRows = await Promise.all(claimed.filter((c) => c.recipientId === alice.id).map((c) => deliveries.get(c.id)));
    expect(new Set(alicesRows.map((d) => d.provider_message_id))).toEqual(new Set([mail.messageId]));
  });

  test('a deactivated recipient is skipped, not mailed', async () => {
    const gone = await ctx.createUser('candidate', { isActive: false });
    const id = await notify(gone.id);
    const claimed = await deliveries.claim('email', [id]);
    expect(await sender.sendEach(claimed)).toEqual({ sent: [], failed: [], retry: [] });
    expect((await deliveries.get(claimed[0].id)).status).toBe('skipped');
    expect(smtp.received).toHaveLength(0);
  });
});
