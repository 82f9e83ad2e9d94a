import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Dispatcher } from '../../channels';
import { WebhookChannel } from '../../channels/webhooks';
import { createLogger } from '../../logger';
import { LocalBus } from '../../realtime';
import { createTestContext, type TestContext } from './harness';

/** One request a receiver got, verified (or not) with the official `standardwebhooks` package. */
export interface ReceivedWebhook {
  id: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  /** The verified body; undefined when the signature did not verify. */
  body?: { type: string; timestamp: string; data: Record<string, unknown> };
  verifyError?: string;
  status: number;
  /** When it arrived (Date.now()): retry timing is measured here, as a receiver would see it. */
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** The secret to verify with: set it once the endpoint is registered (the answer carries it). */
  secret?: string;
  /** Status codes to answer with, in turn; 200 once they run out. */
  answers: number[];
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback, as an API consumer would run one. Nothing it does leaves the machine. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], answers: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const status = receiver.answers.shift() ?? 200;
      const got: ReceivedWebhook = { id: String(req.headers['webhook-id']), headers: req.headers, raw, status, at };
      try {
        got.body = new Webhook(receiver.secret ?? 'whsec_AAAA').verify(raw, req.headers as Record<string, string>) as ReceivedWebhook['body'];
      } catch (err) {
        got.verifyError = (err as Error).message;
      }
      receiver.received.push(got);
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(status < 300 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return receiver;
}

/** A test context delivering webhooks as main.ts does: see `createWebhookContext`. */
export interface WebhookContext extends TestContext {
  channel: WebhookChannel;
  /** A new receiver, closed with the context. */
  receiver(): Promise<WebhookReceiver>;
}

/**
 * A test context whose job runner sends webhooks (OUTBOUND_ALLOW_PRIVATE: the receivers are on loopback), with the
 * webhooks channel behind a dispatcher on the context's events, as main.ts wires it. `close()` stops the dispatcher,
 * drops the database and closes the receivers.
 */
export async function createWebhookContext(
  opts: Pick<NonNullable<Parameters<typeof createTestContext>[0]>, 'webhookRetryWindows' | 'webhookTimeoutMs'> = {},
): Promise<WebhookContext> {
  const ctx = await createTestContext({ jobs: true, env: { OUTBOUND_ALLOW_PRIVATE: 'true' }, ...opts });
  const logger = createLogger('silent');
  const channel = new WebhookChannel({ sequelize: ctx.sequelize, logger });
  const dispatcher = new Dispatcher({ bus: new LocalBus(ctx.events, logger), logger, channels: [channel] });
  await dispatcher.start();
  const receivers: WebhookReceiver[] = [];
  const closeContext = ctx.close;
  return Object.assign(ctx, {
    channel,
    async receiver() {
      const r = await startWebhookReceiver();
      receivers.push(r);
      return r;
    },
    async close() {
      await dispatcher.stop();
      await closeContext();
      for (const r of receivers) await r.close();
    },
  });
}
