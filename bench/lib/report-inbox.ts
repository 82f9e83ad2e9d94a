/** RESULTS.md's rows and section for bench/inbox.ts (issue 14); kept apart so report.ts stays one screen per bench. */
type Json = Record<string, any>;
type Table = (head: string[], rows: Array<Array<string | number>>) => string;

const mark = (met: boolean | undefined) => (met === true ? 'met' : met === false ? '**missed**' : '-');

/** Target rows: search p95 < 50 ms, grouped first page and bell p99 < 10 ms, for each user shape. */
export function inboxTargetRows(r: Json | undefined): string[][] {
  if (!r?.targets) return [];
  const label: Record<string, string> = {
    search_p95_ms: 'Search over HTTP, p95 per query (ms)',
    grouped_page_1_p99_ms: 'Grouped first page over HTTP, p99 (ms)',
    bell_p99_ms: 'Bell (NotificationService.bell), p99 (ms)',
  };
  return Object.entries(r.targets as Json).map(([k, t]: [string, Json]) => {
    const [shape, ...rest] = k.split('_');
    // The load average beside each figure: on a shared machine it says more about the figure than the code does.
    const load = r.environment?.loadavg_at_start?.[0];
    return ['8', `${label[rest.join('_')] ?? rest.join('_')}, ${shape} user`, t.target, `${t.measured} (load average ${load})`, mark(t.met)];
  });
}

export function inboxSection(r: Json, table: Table): string[] {
  const out: string[] = [];
  const e = r.environment;
  const s = r.database?.settings ?? {};
  out.push(
    `Commit ${e.commit}${e.dirty ? ' (plus uncommitted changes)' : ''}; ${e.cpu}, Node ${e.node}. PostgreSQL ` +
      `${r.database?.kind}: ${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(', ')}. Load average ` +
      `${e.loadavg_at_start.join(' / ')} at the start, ${e.loadavg_after_seed_and_sql?.join(' / ')} before the HTTP ` +
      `part, ${e.loadavg_at_end?.join(' / ')} at the end.`,
    '',
    `Seeded ${r.setup.rows.toLocaleString('en')} rows in ${r.setup.seed_seconds} s. Per user: ` +
      Object.entries(r.setup.counts as Json)
        .filter(([u]) => u !== 'table')
        .map(([u, c]: [string, Json]) => `${u}: ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}`)
        .join('; ') +
      `. The course searched: "${r.setup.course_searched}".`,
    '',
  );
  const users = Object.keys(r.http).filter((u) => u !== 'empty');
  const rows: Array<Array<string | number>> = [];
  for (const u of users) {
    for (const [k, h] of Object.entries(r.http[u] as Json) as Array<[string, Json]>) {
      const svc = r.service?.[u]?.[k] ?? {};
      rows.push([u, k, `${h.p50} ms`, `${h.p95} ms`, `${h.p99} ms`, `${h.max} ms`, h.results ?? '-', `${h.server_cpu_ms_per_request} ms`, `${svc.p50} / ${svc.p99} ms`]);
    }
  }
  const empty = r.http.empty?.bell_page;
  if (empty) rows.push(['no notifications', 'bell_page', `${empty.p50} ms`, `${empty.p95} ms`, `${empty.p99} ms`, `${empty.max} ms`, '-', `${empty.server_cpu_ms_per_request} ms`, '-']);
  out.push(table(['user', 'request', 'HTTP p50', 'p95', 'p99', 'max', 'results', 'server CPU / request', 'service alone p50 / p99'], rows), '');
  out.push('Plans (EXPLAIN ANALYZE, BUFFERS) of every statement each service call runs:', '');
  for (const u of users) {
    for (const [k, plans] of Object.entries(r.plans[u] as Json) as Array<[string, string[]]>) {
      out.push(`<details><summary>${u} ${k}</summary>\n\n${plans.map((p) => `\`\`\`\n${p}\n\`\`\``).join('\n\n')}\n</details>\n`);
    }
  }
  return out;
}
