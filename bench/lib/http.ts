import http from 'node:http';
import { nowMs } from './log';

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

/** Keep-alive requests over a bounded pool, like a browser or a reverse proxy would hold them. */
export function agent(maxSockets: number, localAddress?: string): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, localAddress });
}

export function request(
  origin: string,
  method: string,
  path: string,
  opts: { agent: http.Agent; cookie?: string; csrf?: string; json?: unknown; headers?: Record<string, string> },
): Promise<HttpResult> {
  const body = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  const t0 = nowMs();
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${path}`, { method, headers, agent: opts.agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: nowMs() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Fails loudly on an unexpected status: a benchmark of error responses would measure the wrong thing. */
export function expectStatus(r: HttpResult, ok: number[], what: string): HttpResult {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r;
}
