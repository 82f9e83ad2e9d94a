import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpSink {
  url: string;
  /** Every message accepted, parsed, in arrival order. */
  received: ParsedMail[];
  /** Decides each RCPT TO: null accepts, otherwise the reply code and text. */
  rcpt: (address: string) => { code: number; message: string } | null;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a loopback port (no TLS, no auth), recording what it accepted. `port` reuses a port (a
 * server coming back); `delayMs` holds each DATA reply that long before accepting (a slow server).
 */
export async function startSmtpSink(opts: { port?: number; delayMs?: number } = {}): Promise<SmtpSink> {
  const sink: SmtpSink = {
    url: '',
    received: [],
    rcpt: () => null,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // Closing waits for the client's pooled connections at most this long (the "SMTP down" tests close it).
    closeTimeout: 300,
    onRcptTo(address, _session, callback) {
      const refusal = sink.rcpt(address.address);
      if (!refusal) return callback();
      const err = new Error(refusal.message) as Error & { responseCode: number };
      err.responseCode = refusal.code;
      callback(err);
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
          sink.received.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  // A client that vanishes mid-session (a sender killed with -9 in the crash tests) makes its connection fail
  // with ECONNRESET, which smtp-server re-emits here; unheard, it would throw and fail the whole test file.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return sink;
}

/** Every one of `parts` is in the mail's text, in this order (a digest's sections and their items, say). */
export function expectInOrder(mail: ParsedMail, parts: string[]): void {
  const text = String(mail.text);
  const positions = parts.map((s) => text.indexOf(s));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
}
