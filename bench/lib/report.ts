import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inboxSection, inboxTargetRows } from './report-inbox';
import { jobWorkersSection } from './report-job-workers';
import { sendsSection, sendsTargetRows, socketFloorSection } from './report-sends';
import { RESULTS_DIR } from './results';
import { ROOT } from './server';

type Json = Record<string, any>;

const ORDER = ['fanout', 'connections', 'latency', 'queries', 'pages', 'email', 'push', 'push-fanout', 'inbox', 'sends', 'sends-kill', 'profile'];
/**
 * Extra fan-out runs, shown after the plain one when present: `bench:fanout -- --email off|unread` (issue 12) and
 * `--platform-users 1000000` (issue 17).
 */
const FANOUT_EXTRA = ['fanout-email-off', 'fanout-email-unread', 'fanout-platform-1000000'];
/** The write floor under a socket fan-out on this machine (`bench/socket-floor.ts`), shown after section 9. */
const FLOOR = 'socket-floor';
const NUMBER: Record<string, string> = { fanout: '1', connections: '2', latency: '3', queries: '4', pages: '5', email: '6', push: '7', 'push-fanout': '7', inbox: '8', sends: '9', 'sends-kill': '9' };
const TITLES: Record<string, string> = {
  fanout: '1. Fan-out',
  'fanout-email-off': '1b. Fan-out, every student on email off (override rows)',
  'fanout-email-unread': '1c. Fan-out, every student on email when unread',
  'fanout-platform-1000000': '1d. Fan-out to a course whose students are spread among 1,000,000 users (issue 17)',
  connections: '2. Connections',
  latency: '3. Latency (approve -> frame)',
  queries: '4. Queries over HTTP',
  pages: '5. Pages',
  email: '6. Escalation emails to a local SMTP sink',
  push: '7. Web Push to a local push service',
  'push-fanout': '7b. Socket fan-out while pushes go out (A/B, interleaved)',
  inbox: '8. The inbox at 5,000,000 rows (issue 14)',
  sends: '9. "Everyone" on a million users (issue 17)',
  'sends-kill': '9b. The same, the job process killed (kill -9) at 30, 60 and 90%',
  [FLOOR]: '9c. The floor under a socket fan-out: one write per socket, nothing else',
  profile: 'Where the time goes (CPU profiles)',
};

function load(name: string): Json | undefined {
  const f = path.join(RESULTS_DIR, `${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
}

const mark = (met: boolean | null | undefined) => (met === true ? 'met' : met === false ? '**missed**' : '-');

function table(head: string[], rows: Array<Array<string | number>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function section(name: string, r: Json): string {
  const out: string[] = [`## ${TITLES[name] ?? name}`, ''];
  if (r.error) return [...out, `Failed: \`${String(r.error).split('\n')[0]}\``, ''].join('\n');
  if (r.skipped) return [...out, `Skipped: ${r.skipped}`, ''].join('\n');
  if (r.method) out.push(`Method: ${r.method}`, '');
  if (r.environment) {
    const e = r.environment;
    // The host's CPU has changed between sessions (the same code measured up to a third faster on one than on
    // another): every section says where it ran and on which commit, not only the header.
    out.push(`Run at ${e.date} on ${e.cpu ?? '?'} (commit ${e.commit ?? '?'}), load average at start ${e.loadavg_at_start.join(' / ')}.`, '');
  }
  switch (name.startsWith('fanout') ? 'fanout' : name) {
    case 'email':
      out.push(
        `- ${r.accepted}/${r.students} messages accepted by the sink, **${r.messages_per_second}/s** from the job's due ` +
          `time to the last (${r.due_to_last_accept_s} s; first accepted ${r.first_accept_after_due_ms} ms after due). ` +
          `POST ${r.post_ms} ms.`,
        `- Deliveries: ${JSON.stringify(r.deliveries_by_status)}, by attempts ${JSON.stringify(r.deliveries_by_attempts)}; ` +
          `${r.sink_distinct_message_ids} distinct Message-IDs at the sink, ${r.sink_duplicates} duplicates: every ` +
          `delivery sent exactly once: ${r.every_delivery_sent_exactly_once ? 'yes' : '**no**'}.`,
        `- Server RSS: ${Math.round(r.rss_kib.before_due / 1024)} MiB before the job, at most ` +
          `${Math.round(r.rss_kib.max / 1024)} MiB, ${Math.round(r.rss_kib.end / 1024)} MiB 3 s after ` +
          `(${r.rss_kib.samples.length} samples). Server CPU ${r.server_cpu_us_per_message} µs per message.`,
      );
      break;
    case 'push': {
      const p = r.result;
      out.push(
        `- ${p.received}/${p.pushes} pushes received, **${p.pushes_per_second}/s** from the POST to the last ` +
          `(${p.pushes_per_second_while_sending}/s from the first push; first after ${p.first_push_ms} ms, last after ` +
          `${p.last_push_ms} ms); ${p.decrypted_sample} sampled pushes decrypted, ${p.sample_problems.length} problems.`,
        `- Server RSS ${p.server_rss_mib.before} → peak ${p.server_rss_mib.peak} → ${p.server_rss_mib.after} MiB; ` +
          `server CPU ${p.server_cpu_us_per_push} µs per push; load average ${p.loadavg_during.start.join(' / ')} at the ` +
          `start, ${p.loadavg_during.end.join(' / ')} at the end.`,
      );
      break;
    }
    case 'push-fanout': {
      const p = r.result;
      const f = p.fanout_last_frame_ms;
      out.push(
        table(
          ['phase', 'fan-outs', 'last frame p50', 'p90', 'max', 'mean', 'median frame p50'],
          (['quiet', 'pushing'] as const).map((k) => [
            k === 'quiet' ? 'quiet (no pushes)' : 'while pushes go out',
            f[k].n,
            `${f[k].p50} ms`,
            `${f[k].p90} ms`,
            `${f[k].max} ms`,
            `${f[k].mean} ms`,
            `${p.fanout_median_frame_ms_p50[k]} ms`,
          ]),
        ),
        '',
        `- ${p.sockets} sockets; every fan-out delivered to all: ${p.all_delivered ? 'yes' : '**no**'}.`,
        `- Push batches: ${p.push_batches.map((b: Json) => `${b.pushes} in ${b.ms} ms (${b.per_second}/s)`).join('; ')}; ` +
          `${p.push_sample_decrypted} sampled pushes decrypted, ${p.push_sample_problems.length} problems.`,
        `- Server RSS per round (start → end): ${p.server_rss_mib.map((x: Json) => `${x.start} → ${x.end} MiB`).join('; ')}.`,
        `- ${p.seconds} s measured; load average at the end ${p.loadavg_at_end.join(' / ')}.`,
      );
      break;
    }
    case 'fanout':
      out.push(
        table(
          ['students', 'sockets', 'last frame p50 (min-max)', 'median frame p50', 'POST 201 p50', 'all delivered', 'server CPU / msg', 'PostgreSQL CPU / msg'],
          Object.values(r.sizes as Json).map((s: Json) => [
            s.students,
            s.established,
            `${s.last_frame_ms.p50} ms (${s.last_frame_ms.min}-${s.last_frame_ms.max})`,
            `${s.median_frame_ms_p50} ms`,
            `${s.post_ms_p50} ms`,
            s.all_delivered ? 'yes' : 'no',
            `${s.server_cpu_us_per_message} µs`,
            `${s.postgres_cpu_us_per_message} µs`,
          ]),
        ),
      );
      break;
    case 'connections':
      for (const k of ['single', 'multi']) {
        const p = r[k];
        if (!p) continue;
        if (p.skipped) {
          out.push(`- ${k}: skipped (${p.skipped})`);
          continue;
        }
        out.push(
          `- **${p.processes} process(es)**: ${p.established}/${p.requested} sockets established in ${p.open_seconds} s ` +
            `(${p.connections_per_second}/s), ${p.still_open_after_idle} still open after 5 s idle, ` +
            `${p.closed_unexpectedly} closed unexpectedly. Server RSS ${p.server_rss_mib_before} -> ${p.server_rss_mib_after} MiB ` +
            `= **${p.rss_kib_per_connection} KiB per connection**. Fan-out to all: ${p.fanout.delivered}/${p.fanout.expected} ` +
            `delivered, last frame after ${p.fanout.last_frame_ms} ms. Load generator RSS ${p.load_generator_rss_mib} MiB.` +
            (p.open_errors?.length ? ` Open errors: ${p.open_errors.join('; ')}` : ''),
        );
      }
      break;
    case 'latency':
      out.push(
        table(
          ['concurrency', 'approvals', 'frame p50', 'frame p99', 'HTTP p50', 'HTTP p99', 'approvals/s', 'missed frames', 'server CPU / approval', 'PostgreSQL CPU / approval'],
          Object.values(r.levels as Json).map((l: Json) => [
            l.concurrency,
            l.approvals,
            `${l.frames.p50} ms`,
            `${l.frames.p99} ms`,
            `${l.http_response.p50} ms`,
            `${l.http_response.p99} ms`,
            l.approvals_per_second,
            l.missed_frames,
            `${l.server_cpu_ms_per_approval} ms`,
            `${l.postgres_cpu_ms_per_approval} ms`,
          ]),
        ),
      );
      break;
    case 'queries':
      out.push(
        table(
          ['request', 'HTTP p50', 'HTTP p99', 'HTTP max', 'server CPU / request', 'SQL alone p50', 'SQL alone p99'],
          Object.entries(r.http as Json).map(([k, h]: [string, Json]) => [
            k,
            `${h.p50} ms`,
            `${h.p99} ms`,
            `${h.max} ms`,
            `${h.server_cpu_ms_per_request} ms`,
            `${r.sql_only[k].p50} ms`,
            `${r.sql_only[k].p99} ms`,
          ]),
        ),
        '',
        `Table: ${r.setup.rows.toLocaleString('en')} rows, ${r.setup.per_user.toLocaleString('en')} for the user ` +
          `(${r.setup.unread} unread), loaded in ${r.setup.load_seconds} s. Plans (EXPLAIN ANALYZE, BUFFERS):`,
        '',
      );
      for (const [k, plan] of Object.entries(r.plans as Json)) out.push(`<details><summary>${k}</summary>\n\n\`\`\`\n${plan}\n\`\`\`\n</details>\n`);
      break;
    case 'pages':
      out.push(
        table(
          ['page', 'path', 'req/s', 'p50', 'p99', 'non-2xx', 'bytes', 'server CPU / request'],
          Object.entries(r.pages as Json).map(([k, p]: [string, Json]) => [
            k,
            `${p.path}${p.htmx ? ' (HX-Request)' : ''}`,
            p.requests_per_second,
            `${p.latency_ms.p50} ms`,
            `${p.latency_ms.p99} ms`,
            p.non_2xx,
            p.bytes_per_response,
            `${p.server_cpu_ms_per_request} ms`,
          ]),
        ),
      );
      if (r.missing?.length) out.push('', `Not measured: ${r.missing.join('; ')}.`);
      break;
    case 'inbox':
      out.push(...inboxSection(r, table));
      break;
    case 'sends':
    case 'sends-kill':
      out.push(...sendsSection(r, table));
      break;
    case FLOOR:
      out.push(...socketFloorSection(r, table));
      break;
    case 'profile':
      for (const k of ['approvals', 'queries']) {
        const p = r[k];
        if (!p) continue;
        out.push(
          `**${p.workload}**: ${p.cpu.busy_ms} ms of server CPU (self time, idle excluded). By owner:`,
          '',
          table(['owner', 'ms', 'share'], p.cpu.by_owner.slice(0, 10).map((o: Json) => [o.name, o.ms, `${o.share_pct}%`])),
          '',
          'Top functions:',
          '',
          table(['function', 'ms', 'share'], p.cpu.by_function.slice(0, 10).map((o: Json) => [`\`${o.name}\``, o.ms, `${o.share_pct}%`])),
          '',
        );
      }
      break;
  }
  out.push('');
  return out.join('\n');
}

/** RESULTS.md from whatever results/*.json exist, plus the hand-written findings (bench/FINDINGS.md). */
export function writeReport(extra: { totalSeconds?: number } = {}): string {
  const results = Object.fromEntries([...ORDER, ...FANOUT_EXTRA, FLOOR].map((n) => [n, load(n)]).filter(([, r]) => r)) as Record<string, Json>;
  const env = Object.values(results).find((r) => r.environment)?.environment ?? {};
  const db = Object.values(results).find((r) => r.database)?.database;
  const lines: string[] = [
    '# Herald benchmark results',
    '',
    'Generated by `npm run bench` (bench/run-all.ts) from bench/results/*.json; do not edit by hand: the',
    'interpretation lives in bench/FINDINGS.md and is appended below.',
    '',
    '## Conditions',
    '',
    `- Machine (of the fan-out run; each section names its own): ${env.cpu ?? '?'}, ${env.memory_gib ?? '?'} GiB, Linux ${env.kernel ?? '?'}, Node ${env.node ?? '?'}.`,
    `- Commit: ${env.commit ?? '?'}${env.dirty ? ' plus uncommitted changes under server/ (work in progress at the time)' : ''}; run ${env.date ?? '?'}` +
      (extra.totalSeconds ? `, ${Math.round(extra.totalSeconds)} s end to end.` : '.'),
    `- PostgreSQL: ${db ? `${db.kind}, ${Object.entries(db.settings).map(([k, v]) => `${k}=${v}`).join(', ')}` : '?'}.`,
    `- Server: its own process (node --import tsx server/main.ts), NODE_ENV=production, LOG_LEVEL=warn, ` +
      `SEED_DEMO=false, on 127.0.0.1; bus: ${results.fanout?.bus ?? '?'}. Load generators share the same 2 cores.`,
    '- Load average at the start of each benchmark is given in its section: above ~1 the machine was shared ' +
      'with other work and the figures are pessimistic.',
    '',
    '## Targets',
    '',
  ];
  const rows: Array<Array<string | number>> = [];
  const add = (n: string, label: string, t: Json | undefined) => t && rows.push([n, label, t.target, String(t.measured), mark(t.met)]);
  const f = results.fanout?.targets ?? {};
  add('1', 'Fan-out to 1,000 connected students, POST -> last frame, p50', f.fanout_1000_p50_ms);
  add('1', 'Fan-out to 10,000 connected students, POST -> last frame, p50', f.fanout_10000_p50_ms);
  if (results.fanout?.sizes) {
    for (const s of Object.values(results.fanout.sizes as Json) as Json[]) {
      rows.push(['1', `Server CPU per delivered message (N=${s.students})`, 'report', `${s.server_cpu_us_per_message} µs`, '-']);
    }
  }
  const off = results['fanout-email-off']?.sizes?.['10000'];
  const unread = results['fanout-email-unread']?.sizes?.['10000'];
  if (off && unread) {
    const ratio = unread.last_frame_ms.p50 / off.last_frame_ms.p50;
    rows.push([
      '1',
      'Fan-out to 10,000, every student on email when unread vs email off, last frame p50',
      'within 10%',
      `${unread.last_frame_ms.p50} vs ${off.last_frame_ms.p50} ms (${ratio >= 1 ? '+' : ''}${Math.round((ratio - 1) * 1000) / 10}%)`,
      mark(ratio <= 1.1 && unread.all_delivered && off.all_delivered),
    ]);
  }
  const c = results.connections?.targets ?? {};
  add('2', 'Authenticated idle sockets in one process', c.single_process_sockets);
  add('2', 'RSS per connection (KiB)', c.rss_kib_per_connection);
  add('2', 'Multi-process start, fan-out reaching all', c.multi_process_sockets_with_fanout);
  const l = results.latency;
  add('3', 'Approvals/s with approve -> frame p99 < 50 ms', l?.targets?.throughput_with_p99_under_50ms);
  if (l?.levels) {
    for (const v of Object.values(l.levels as Json) as Json[]) {
      rows.push(['3', `approve -> frame at concurrency ${v.concurrency}`, 'p99 < 50 ms', `p50 ${v.frames.p50} ms, p99 ${v.frames.p99} ms, ${v.approvals_per_second}/s`, mark(v.frames.p99 < 50)]);
    }
  }
  const q = results.queries?.targets ?? {};
  add('4', 'Unread count over HTTP, p99 (ms)', q.unread_count_p99_ms);
  add('4', 'First notifications page over HTTP, p99 (ms)', q.page_1_p99_ms);
  add('4', 'Page 500 (keyset) vs page 1', q.page_500_vs_page_1);
  for (const [k, t] of Object.entries(results.pages?.targets ?? {})) add('5', `${k.replace(/_rps$/, '')} requests/s`, t as Json);
  const e = results.email;
  add('6', `Escalation emails to a local SMTP sink (N=${e?.students ?? '?'}), per second, each sent once`, e?.targets?.email_per_second);
  const pu = results.push;
  add('7', `Web Push to a local push service (N=${pu?.result?.pushes ?? '?'}), per second`, pu?.targets?.push_per_second);
  if (pu?.result) {
    const m = pu.result.server_rss_mib;
    rows.push(['7', 'Server memory while the pushes go out', 'flat', `${m.before} → peak ${m.peak} → ${m.after} MiB`, '-']);
  }
  const pf = results['push-fanout']?.targets ?? {};
  add('7', 'Socket fan-out, POST -> last frame p50, while pushes go out vs quiet', pf.fanout_p50_unchanged_while_pushing);
  add('7', 'Pushes per second while socket fan-outs run (slowest batch)', pf.push_per_second_while_fanning_out);
  rows.push(...inboxTargetRows(results.inbox));
  rows.push(...sendsTargetRows(results.sends, results['sends-kill'], results.fanout, results['fanout-platform-1000000']));
  for (const n of ORDER.filter((x) => x !== 'profile')) {
    const r = results[n];
    if (!r) rows.push([NUMBER[n], n, '-', 'not run', '-']);
    else if (r.error || r.skipped) rows.push([NUMBER[n], n, '-', r.error ? 'failed (see below)' : `skipped: ${r.skipped}`, '**missed**']);
  }
  lines.push(table(['#', 'what', 'target', 'measured', ''], rows), '');
  for (const n of ORDER) {
    if (results[n]) lines.push(section(n, results[n]));
    if (n === 'fanout') for (const x of FANOUT_EXTRA) if (results[x]) lines.push(section(x, results[x]));
    if (n === 'push-fanout') lines.push(jobWorkersSection(table));
    if (n === 'sends-kill' && results[FLOOR]) lines.push(section(FLOOR, results[FLOOR]));
  }
  const findings = path.join(ROOT, 'bench', 'FINDINGS.md');
  if (existsSync(findings)) lines.push(readFileSync(findings, 'utf8'));
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  writeFileSync(file, lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n');
  return file;
}

if (require.main === module) process.stdout.write(`${writeReport()}\n`);
