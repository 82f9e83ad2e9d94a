import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { Agent } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

/** A route the Express app really serves, in OpenAPI form: `{ method: 'post', path: '/api/courses/{id}/applications' }`. */
export interface RouteEntry {
  method: string;
  path: string;
}

const joinPath = (a: string, b: string) => `${a}/${b}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

/** Every route of the app, found by walking Express 5's router stacks (mounted routers included). */
export function listRoutes(app: { router: { stack: any[] } }): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths: string[] = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const method of Object.keys(layer.route.methods)) {
            if (method === '_all') continue;
            out.push({ method, path: joinPath(prefix, p).replace(/:(\w+)/g, '{$1}') });
          }
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const mounts: string[] = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath ?? '/'];
        for (const m of mounts) walk(layer.handle.stack, joinPath(prefix, m));
      }
    }
  };
  walk(app.router.stack, '');
  return out;
}

interface Match {
  path: string;
  op: Json;
}

/**
 * The served OpenAPI document as a test oracle: every response a wrapped agent receives must be one the
 * document declares for that operation (status, media type, body schema), and every request body the server
 * accepted must satisfy the documented request schema. It also records which operations were exercised.
 */
export class Contract {
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  /** operationId -> statuses seen. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly doc: Json) {
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    this.#ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/);
    this.#ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
    this.#ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    this.#ajv.addSchema(doc, 'openapi');
  }

  static async load(app: RequestListener): Promise<Contract> {
    const res = await request(app).get('/api/openapi.json').expect(200).expect('Content-Type', /application\/json/);
    return new Contract(res.body);
  }

  /** All documented operations as `{method, path, operationId}` (path with the /api prefix). */
  operations(): Array<{ method: string; path: string; op: Json }> {
    const base = this.doc.servers[0].url as string;
    return Object.entries(this.doc.paths as Record<string, Json>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ method, path: base + path, op: op as Json })),
    );
  }

  /** The documented operation a concrete request hits; literal segments win over `{params}`. */
  match(method: string, url: string): Match | undefined {
    const base = this.doc.servers[0].url as string;
    let path = new URL(url, 'http://x').pathname;
    if (!path.startsWith(`${base}/`)) return undefined;
    path = path.slice(base.length).replace(/(.)\/$/, '$1');
    const candidates = Object.keys(this.doc.paths)
      .filter((template) => {
        const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
        return re.test(path) && this.doc.paths[template][method.toLowerCase()];
      })
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
    if (candidates.length === 0) return undefined;
    return { path: candidates[0], op: this.doc.paths[candidates[0]][method.toLowerCase()] };
  }

  #validator(key: string, schema: Json): ValidateFunction {
    let v = this.#validators.get(key);
    if (!v) {
      // Local refs in the document point at its own components; compile them relative to the added document.
      const rebased = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/'));
      v = this.#ajv.compile(rebased);
      this.#validators.set(key, v);
    }
    return v;
  }

  /** Throws, with the reason, when a response is not what the document promises. */
  check(method: string, url: string, res: request.Response): void {
    const m = this.match(method, url);
    if (!m) throw new Error(`Undocumented endpoint: ${method.toUpperCase()} ${url} (answered ${res.status})`);
    const where = `${method.toUpperCase()} ${url} -> ${res.status} (${m.op.operationId})`;
    const declared = m.op.responses[String(res.status)];
    if (!declared) throw new Error(`Undocumented status: ${where}\n${res.text?.slice(0, 500)}`);
    const content = declared.content as Record<string, Json> | undefined;
    if (!content) {
      if (res.text) throw new Error(`Documented as an empty body but got one: ${where}`);
    } else {
      const [type, media] = Object.entries(content)[0];
      const got = String(res.headers['content-type'] ?? '');
      if (!got.startsWith(type)) throw new Error(`Content-Type ${got}, documented ${type}: ${where}`);
      if (media.schema) {
        const validate = this.#validator(`${m.op.operationId} ${res.status}`, media.schema);
        if (!validate(res.body)) {
          throw new Error(`Response body does not match the document: ${where}\n${this.#ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 800)}`);
        }
      }
    }
    const body = (res as unknown as { request?: { _data?: unknown } }).request?._data;
    const requestSchema = m.op.requestBody?.content?.['application/json']?.schema;
    if (res.status < 300 && requestSchema && body !== undefined && typeof body === 'object') {
      const validate = this.#validator(`${m.op.operationId} request`, requestSchema);
      if (!validate(body)) {
        throw new Error(`The server accepted a body the document forbids: ${where}\n${this.#ajv.errorsText(validate.errors)}`);
      }
    }
    const seen = this.seen.get(m.op.operationId) ?? new Set<number>();
    seen.add(res.status);
    this.seen.set(m.op.operationId, seen);
  }

  /** The same agent, checking every response against the document. */
  wrap(agent: Agent): Agent {
    const checked = (method: string, url: string, t: request.Test) => t.expect((res) => this.check(method, url, res));
    return {
      http: agent.http,
      csrf: agent.csrf,
      get: (url) => checked('get', url, agent.get(url)),
      post: (url, body) => checked('post', url, agent.post(url, body)),
      patch: (url, body) => checked('patch', url, agent.patch(url, body)),
      delete: (url) => checked('delete', url, agent.delete(url)),
    };
  }

  /** Documented operations whose path starts with one of `prefixes` that never answered 2xx through a wrapped agent. */
  unexercised(...prefixes: string[]): string[] {
    return this.operations()
      .filter((o) => prefixes.some((p) => o.path === p || o.path.startsWith(`${p}/`)))
      .map((o) => o.op.operationId as string)
      .filter((id) => ![...(this.seen.get(id) ?? [])].some((s) => s >= 200 && s < 300));
  }
}
