import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { nowMs } from './log';

export interface SmtpSink {
  url: string;
  /** Messages accepted so far. */
  count(): number;
  /** When each message was accepted (nowMs clock), in order. */
  acceptedAt: number[];
  /** Message-ID header -> how many times it arrived: more than once is a duplicate send. */
  messageIds: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A local SMTP server that accepts everything and keeps nothing but a count, the acceptance times and each
 * message's Message-ID (read from the header block as it streams past): the bench measures Herald's sender,
 * not a parser. No TLS, no auth: what a relay on loopback would be.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink: SmtpSink = {
    url: '',
    count: () => sink.acceptedAt.length,
    acceptedAt: [],
    messageIds: new Map(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 1024 * 1024,
    closeTimeout: 300,
    onData(stream, _session, callback) {
      let head = '';
      let headDone = false;
      stream.on('data', (chunk: Buffer) => {
        if (headDone) return;
        head += chunk.toString('latin1');
        const end = head.search(/\r?\n\r?\n/);
        if (end >= 0) {
          head = head.slice(0, end);
          headDone = true;
        }
      });
      stream.on('end', () => {
        const id = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? '(none)';
        sink.messageIds.set(id, (sink.messageIds.get(id) ?? 0) + 1);
        sink.acceptedAt.push(nowMs());
        callback();
      });
    },
  });
  // A client that vanishes mid-session (a sender killed with -9 in the crash tests) makes its connection fail
  // with ECONNRESET, which smtp-server re-emits here; unheard, it would throw and fail the whole test file.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return sink;
}
