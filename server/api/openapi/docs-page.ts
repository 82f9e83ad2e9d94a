/**
 * A readable page of the OpenAPI document, rendered from the document itself (so the two cannot disagree)
 * on the server, with no script and nothing fetched from elsewhere.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Just enough Markdown for our descriptions: `code`, **bold**, paragraphs and "- " lists. */
function markdown(text: string | undefined): string {
  if (!text) return '';
  const inline = (s: string) =>
    esc(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines[0].startsWith('- ')) {
        const items = block.split(/\n(?=- )/).map((item) => `<li>${inline(item.slice(2).replace(/\n\s*/g, ' '))}</li>`);
        return `<ul>${items.join('')}</ul>`;
      }
      return `<p>${inline(block.replace(/\n\s*/g, ' '))}</p>`;
    })
    .join('\n');
}

const anchor = (name: string) => `schema-${name}`;

/** A JSON Schema in a few words: `integer ≥ 1 ≤ 100, default 20`, `array of Notification`, `string or null`. */
function describeType(s: Json | undefined): string {
  if (!s || Object.keys(s).length === 0) return 'any JSON';
  if (s.$ref) {
    const name = String(s.$ref).split('/').pop()!;
    return `<a href="#${esc(anchor(name))}">${esc(name)}</a>`;
  }
  if (s.anyOf) return (s.anyOf as Json[]).map(describeType).join(' or ');
  if (s.const !== undefined) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  const parts: string[] = [];
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (s.enum) parts.push(`one of ${(s.enum as unknown[]).map((v) => `<code>${esc(v)}</code>`).join(', ')}`);
  else if (types.includes('array')) parts.push(`array of ${describeType(s.items)}`);
  else if (types.includes('object') && s.properties && Object.keys(s.properties).length) parts.push('object (below)');
  else if (types.includes('object')) parts.push('object');
  else parts.push(types.join(' or ') || 'any JSON');
  if (types.includes('null') && !parts[0].includes('null')) parts[0] += ' or null';
  if (s.format) parts.push(esc(s.format));
  if (s.minimum !== undefined) parts.push(`≥ ${esc(s.minimum)}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${esc(s.exclusiveMinimum)}`);
  if (s.maximum !== undefined) parts.push(`≤ ${esc(s.maximum)}`);
  if (s.minLength !== undefined) parts.push(`at least ${esc(s.minLength)} characters`);
  if (s.maxLength !== undefined) parts.push(`at most ${esc(s.maxLength)} characters`);
  if (s.default !== undefined) parts.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
  return parts.join(', ');
}

function fieldsTable(schema: Json): string {
  const props: Record<string, Json> = schema.properties ?? {};
  if (Object.keys(props).length === 0) return `<p class="type">${describeType(schema)}</p>`;
  const required = new Set<string>(schema.required ?? []);
  const rows = Object.entries(props).map(
    ([name, p]) =>
      `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''}</td>` +
      `<td>${describeType(p)}</td><td>${markdown(p.description)}</td></tr>` +
      (p.type === 'object' && p.properties ? `<tr><td></td><td colspan="2">${fieldsTable(p)}</td></tr>` : ''),
  );
  return `<table><thead><tr><th>field</th><th>type</th><th>meaning</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function operationSection(method: string, path: string, op: Json, doc: Json): string {
  const params: Json[] = op.parameters ?? [];
  const paramRows = params.map(
    (p) =>
      `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td>` +
      `<td>${esc(p.in)}</td><td>${describeType(p.schema)}</td><td>${markdown(p.description)}</td></tr>`,
  );
  const body = op.requestBody?.content?.['application/json']?.schema;
  const responses = Object.entries(op.responses as Record<string, Json>).map(([status, r]) => {
    const [type, media] = (Object.entries(r.content ?? {})[0] ?? []) as [string?, Json?];
    const shape = media?.schema ? describeType(media.schema) : type ? esc(type) : 'empty body';
    return `<tr><td class="status s${esc(status[0])}">${esc(status)}</td><td>${shape}</td><td>${esc(r.description)}</td></tr>`;
  });
  const base = doc.servers?.[0]?.url ?? '';
  return `
<section class="op" id="${esc(op.operationId)}">
  <h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(base + path)}</code>
    ${op.deprecated ? '<span class="deprecated">alias</span>' : ''}</h3>
  <p class="summary">${esc(op.summary)}</p>
  ${markdown(op.description)}
  ${paramRows.length ? `<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr></thead><tbody>${paramRows.join('')}</tbody></table>` : ''}
  ${body ? `<h4>JSON body${op.requestBody.required ? '' : ' (optional)'}</h4>${fieldsTable(body)}` : ''}
  <h4>Responses</h4>
  <table><thead><tr><th>status</th><th>body</th><th>when</th></tr></thead><tbody>${responses.join('')}</tbody></table>
</section>`;
}

export function renderDocsPage(doc: Json): string {
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      if (!toc.has(tag)) toc.set(tag, []);
      byTag.get(tag)!.push(operationSection(method, path, op, doc));
      toc.get(tag)!.push(`<li><a href="#${esc(op.operationId)}"><b>${esc(method.toUpperCase())}</b> ${esc(path)}</a></li>`);
    }
  }
  const order = (doc.tags as Json[] | undefined)?.map((t) => t.name) ?? [...byTag.keys()];
  const schemas = Object.entries((doc.components?.schemas ?? {}) as Record<string, Json>).map(
    ([name, s]) =>
      `<section class="schema" id="${esc(anchor(name))}"><h3>${esc(name)}</h3>${markdown(s.description)}${fieldsTable(s)}</section>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<link rel="stylesheet" href="/static/api-docs.css">
</head>
<body>
<header>
  <h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
  ${markdown(doc.info.description)}
  <p>Machine-readable: <a href="openapi.json"><code>openapi.json</code></a> (OpenAPI ${esc(doc.openapi)}).</p>
  <nav>${order
    .filter((t) => toc.has(t))
    .map((t) => `<h4>${esc(t)}</h4><ul>${toc.get(t)!.join('')}</ul>`)
    .join('')}<h4>Schemas</h4><ul>${Object.keys(doc.components?.schemas ?? {})
    .map((n) => `<li><a href="#${esc(anchor(n))}">${esc(n)}</a></li>`)
    .join('')}</ul></nav>
</header>
<main>
${order
  .filter((t) => byTag.has(t))
  .map((t) => `<h2>${esc(t)}</h2>${byTag.get(t)!.join('')}`)
  .join('\n')}
<h2>Schemas</h2>
${schemas.join('\n')}
</main>
</body>
</html>`;
}
