import path from 'node:path';
import nunjucks from 'nunjucks';

/**
 * A readable page of the OpenAPI document, rendered from the document itself (so the two cannot disagree) on
 * the server, with no script and nothing fetched from elsewhere. This module turns the document into plain
 * data (text split into inline tokens); views/api/docs.njk writes the HTML, and its autoescape escapes it all.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A run of text: plain, `code`, **strong**, or a link to a schema of the page. */
export interface Inline {
  kind: 'text' | 'code' | 'strong' | 'ref';
  value: string;
}
/** A paragraph, or a "- " list whose items are runs of text. */
export type Block = { kind: 'p'; text: Inline[] } | { kind: 'ul'; items: Inline[][] };

const text = (value: string): Inline => ({ kind: 'text', value });
const code = (value: string): Inline => ({ kind: 'code', value });

function inline(s: string): Inline[] {
  return s
    .split(/(`[^`]+`|\*\*[^*]+\*\*)/)
    .filter(Boolean)
    .map((part) =>
      part.startsWith('`') ? code(part.slice(1, -1)) : part.startsWith('**') ? { kind: 'strong', value: part.slice(2, -2) } : text(part),
    );
}

/** Just enough Markdown for our descriptions: `code`, **bold**, paragraphs and "- " lists. */
export function markdown(source: string | undefined): Block[] {
  if (!source) return [];
  const oneLine = (s: string) => s.replace(/\n\s*/g, ' ');
  return source.split(/\n\s*\n/).map((block) =>
    block.startsWith('- ')
      ? { kind: 'ul', items: block.split(/\n(?=- )/).map((item) => inline(oneLine(item.slice(2)))) }
      : { kind: 'p', text: inline(oneLine(block)) },
  );
}

/** A JSON Schema in a few words: `integer, ≥ 1, ≤ 100, default 20`, `array of Notification`, `string or null`. */
function describeType(s: Json | undefined): Inline[] {
  if (!s || Object.keys(s).length === 0) return [text('any JSON')];
  if (s.$ref) return [{ kind: 'ref', value: String(s.$ref).split('/').pop()! }];
  if (s.anyOf) return (s.anyOf as Json[]).flatMap((alt, i) => [...(i ? [text(' or ')] : []), ...describeType(alt)]);
  if (s.const !== undefined) return [code(JSON.stringify(s.const))];
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length === 1 && types[0] === 'null') return [text('null')]; // the second half of `x or null`
  const out: Inline[] = [];
  if (s.enum) out.push(text('one of '), ...(s.enum as unknown[]).flatMap((v, i) => [...(i ? [text(', ')] : []), code(String(v))]));
  else if (types.includes('array')) out.push(text('array of '), ...describeType(s.items));
  else if (types.includes('object') && s.properties && Object.keys(s.properties).length) out.push(text('object (below)'));
  else if (types.includes('object')) out.push(text('object'));
  else out.push(text(types.filter((t) => t !== 'null').join(' or ') || 'any JSON'));
  if (types.includes('null')) out.push(text(' or null'));
  const facts: Inline[][] = [];
  if (s.format) facts.push([text(s.format)]);
  if (s.minimum !== undefined) facts.push([text(`≥ ${s.minimum}`)]);
  if (s.exclusiveMinimum !== undefined) facts.push([text(`> ${s.exclusiveMinimum}`)]);
  if (s.maximum !== undefined) facts.push([text(`≤ ${s.maximum}`)]);
  if (s.minLength !== undefined) facts.push([text(`at least ${s.minLength} characters`)]);
  if (s.maxLength !== undefined) facts.push([text(`at most ${s.maxLength} characters`)]);
  if (s.default !== undefined) facts.push([text('default '), code(JSON.stringify(s.default))]);
  return [...out, ...facts.flatMap((f) => [text(', '), ...f])];
}

interface Field {
  name: string;
  required: boolean;
  type: Inline[];
  description: Block[];
}

/** An object's fields, nested objects' fields following their parent as `parent.child`; else its type alone. */
function fieldsOf(schema: Json, prefix = ''): Field[] {
  const required = new Set<string>(schema.required ?? []);
  return Object.entries((schema.properties ?? {}) as Record<string, Json>).flatMap(([name, p]) => [
    { name: prefix + name, required: required.has(name), type: describeType(p), description: markdown(p.description) },
    ...(p.type === 'object' && p.properties ? fieldsOf(p, `${prefix}${name}.`) : []),
  ]);
}

const shape = (schema: Json) => ({ fields: fieldsOf(schema), type: describeType(schema) });

/**
 * Who may call it with a token, from `x-scopes` (any one of them; [] any token; 'session': tokens may not): the
 * first thing a token holder asks of an operation, and otherwise written nowhere on the page.
 */
function tokenAccess(scopes: unknown): Inline[] {
  if (scopes === 'session') return [text('Access tokens: not accepted; sign in with a session.')];
  if (!Array.isArray(scopes)) return [];
  if (scopes.length === 0) return [text('Access tokens: any token.')];
  const list = (scopes as string[]).flatMap((s, i) => [...(i ? [text(' or ')] : []), code(s)]);
  return [text(scopes.length > 1 ? 'Access tokens: with one of the scopes ' : 'Access tokens: with the scope '), ...list, text('.')];
}

function operationView(method: string, path: string, op: Json, base: string) {
  const body = op.requestBody?.content?.['application/json']?.schema;
  const scopes = op['x-access'] === 'anyone' ? [] : tokenAccess(op['x-scopes']);
  return {
    id: op.operationId,
    method,
    path: base + path,
    deprecated: !!op.deprecated,
    summary: op.summary,
    description: [...markdown(op.description), ...(scopes.length ? [{ kind: 'p', text: scopes } as Block] : [])],
    parameters: ((op.parameters ?? []) as Json[]).map((p) => ({
      name: p.name,
      in: p.in,
      required: !!p.required,
      type: describeType(p.schema),
      description: markdown(p.description),
    })),
    body: body ? { required: !!op.requestBody.required, ...shape(body) } : null,
    responses: Object.entries(op.responses as Record<string, Json>).map(([status, r]) => {
      const [type, media] = (Object.entries(r.content ?? {})[0] ?? []) as [string?, Json?];
      return {
        status,
        family: status[0],
        shape: media?.schema ? describeType(media.schema) : [text(type ?? 'empty body')],
        description: r.description,
      };
    }),
  };
}

/** One event Herald POSTs to webhook endpoints (the document's `webhooks`): its headers and its body. */
function webhookView(type: string, item: Json) {
  const op = (item.post ?? {}) as Json;
  const body = op.requestBody?.content?.['application/json']?.schema;
  return {
    id: `webhook-${type}`,
    type,
    summary: inline(String(op.summary ?? '')),
    description: markdown(op.description),
    headers: ((op.parameters ?? []) as Json[]).map((p) => ({ name: p.name, description: markdown(p.description) })),
    body: body ? shape(body) : null,
  };
}

/** The page's data: operations grouped by tag in the document's order, the webhook events, then every schema. */
export function docsView(doc: Json) {
  const base: string = doc.servers?.[0]?.url ?? '';
  const byTag = new Map<string, ReturnType<typeof operationView>[]>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      const tag: string = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationView(method, path, op, base)]);
    }
  }
  const order: string[] = (doc.tags as Json[] | undefined)?.map((t) => t.name) ?? [...byTag.keys()];
  return {
    title: doc.info.title,
    version: doc.info.version,
    openapi: doc.openapi,
    intro: markdown(doc.info.description),
    tags: order.filter((t) => byTag.has(t)).map((name) => ({ name, operations: byTag.get(name)! })),
    webhooks: Object.entries((doc.webhooks ?? {}) as Record<string, Json>).map(([type, item]) => webhookView(type, item)),
    schemas: Object.entries((doc.components?.schemas ?? {}) as Record<string, Json>).map(([name, s]) => ({
      name,
      description: markdown(s.description),
      ...shape(s),
    })),
  };
}

const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(path.join(__dirname, '..', '..', '..', 'views', 'api')), {
  autoescape: true,
  throwOnUndefined: true,
});

export function renderDocsPage(doc: Json): string {
  return views.render('docs.njk', docsView(doc));
}
