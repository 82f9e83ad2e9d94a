import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { assertSendable, guardedLookup, type OutboundPolicy } from '../../outbound';

/** What a receiver said back is kept up to this many bytes; the rest is never read. */
export const EXCERPT_BYTES = 1024;

/** The outcome of one try, as the attempts log records it. */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

/**
 * `webhook-signature` per the Standard Webhooks specification: `v1,` and the base64 HMAC-SHA256, keyed with the
 * base64-decoded part of `whsec_...`, of `id.timestamp.body`.
 */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface WebhookSenderOptions {
  policy: OutboundPolicy;
  /** The whole exchange (connect, send, first bytes back) must finish within this; default 10 s. */
  timeoutMs?: number;
}

/**
 * POSTs signed webhook bodies through the guarded agents: a literal forbidden IP is refused before the request, a
 * name is resolved and checked as the socket connects (so DNS that changed since registration is caught), redirects
 * are never followed (a 3xx is a failure like any non-2xx), and at most `EXCERPT_BYTES` of the answer is read.
 */
export class WebhookSender {
  readonly #policy: OutboundPolicy;
  readonly #timeoutMs: number;
  readonly #agents: { http: http.Agent; https: https.Agent };

  constructor(opts: WebhookSenderOptions) {
    this.#policy = opts.policy;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    // Not guardedAgents' keep-alive pair: an endpoint hears from us now and then, and an idle socket per endpoint
    // would outlive the runner that opened it.
    const lookup = guardedLookup(opts.policy);
    this.#agents = { http: new http.Agent({ lookup }), https: new https.Agent({ lookup }) };
  }

  async send(target: { url: string; secret: string }, message: { id: string; body: string }): Promise<AttemptResult> {
    const started = Date.now();
    const timestamp = Math.floor(started / 1000);
    const done = (r: Omit<AttemptResult, 'latencyMs' | 'ok'>): AttemptResult => ({
      ...r,
      ok: r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300,
      latencyMs: Date.now() - started,
    });
    let url: URL;
    try {
      url = new URL(target.url);
      assertSendable(url, this.#policy);
    } catch (err) {
      return done({ statusCode: null, responseExcerpt: null, error: (err as Error).message });
    }
    const client = url.protocol === 'http:' ? http : https;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (r: Omit<AttemptResult, 'latencyMs' | 'ok'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(r));
      };
      const req = client.request(url, {
        method: 'POST',
        agent: url.protocol === 'http:' ? this.#agents.http : this.#agents.https,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Herald-Webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(target.secret, message.id, timestamp, message.body),
        },
      });
      // Until an answer's status line arrives, running out of time is a timeout; after it, the status counts (a 2xx
      // within the limit is a success) and only the reading of the body is cut short.
      let outOfTime = () => finish({ statusCode: null, responseExcerpt: null, error: `no answer within ${this.#timeoutMs} ms` });
      const timer = setTimeout(() => {
        req.destroy();
        outOfTime();
      }, this.#timeoutMs);
      req.on('error', (err) => finish({ statusCode: null, responseExcerpt: null, error: err.message }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        outOfTime = () => end();
        const end = () => {
          // PostgreSQL text cannot hold NUL; a binary answer is only an excerpt anyway.
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\0/g, '');
          finish({ statusCode: res.statusCode ?? null, responseExcerpt: excerpt || null, error: null });
          res.destroy();
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= EXCERPT_BYTES) end();
        });
        res.on('end', end);
        res.on('error', end);
      });
      req.end(message.body);
    });
  }
}
