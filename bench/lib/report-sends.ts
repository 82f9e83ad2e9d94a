type Json = Record<string, any>;
type Table = (head: string[], rows: Array<Array<string | number>>) => string;

const mark = (met: boolean) => (met ? 'met' : '**missed**');

/**
 * 9 (issue 17): an admin's "everyone" (`bench:sends`), plain and with the job process killed at fractions of the
 * audience. The targets are the issue's: POST under 100 ms, first frames within 500 ms, every row within 60 s, and
 * with kills exactly one row per user and one frame per socket.
 */
export function sendsTargetRows(plain: Json | undefined, killed: Json | undefined, fanout?: Json, platform?: Json): string[][] {
  const rows: string[][] = [];
  const r = plain?.result;
  if (r) {
    const n = r.users.toLocaleString('en');
    const warm = r.warmup_post_ms === undefined ? '' : ` (after one warm-up send; that first send: ${r.warmup_post_ms} ms)`;
    rows.push(['9', `"Everyone" on ${n} users: POST answered (202)`, '< 100 ms', `${r.post_ms} ms${warm}`, mark(r.post_ms < 100)]);
    rows.push(['9', `First frame at the ${r.connected.toLocaleString('en')} connected users`, '< 500 ms', `${r.first_frame_ms} ms`, mark(r.first_frame_ms !== null && r.first_frame_ms < 500)]);
    rows.push(['9', `All ${n} rows written`, '< 60 s', `${(r.all_rows_ms / 1000).toFixed(1)} s`, mark(r.all_rows_ms < 60_000 && r.exactly_one_row_per_user)]);
    rows.push(['9', 'Server memory during the send (all Node processes)', 'bounded: report the peak', `${r.server_peak_rss_mib} MiB peak`, '-']);
    rows.push(['9', 'notifications bytes per recipient (table + indexes)', 'report', `${r.bytes_per_recipient}`, '-']);
  }
  // The inline targets, read off the fan-out bench (section 1) when it ran on a durable database.
  const durable = fanout?.database?.settings?.fsync === 'on' && fanout?.database?.settings?.synchronous_commit === 'on';
  for (const [size, target] of [['1000', 50], ['10000', 300]] as const) {
    const s = fanout?.sizes?.[size];
    if (!s || !durable) continue;
    const p50 = s.last_frame_ms.p50;
    rows.push(['9', `Course fan-out to ${Number(size).toLocaleString('en')} connected (inline), POST -> last frame p50, durable`, `< ${target} ms`, `${p50} ms (POST ${s.post_ms_p50} ms)`, mark(p50 < target && s.all_delivered)]);
  }
  // The same fan-out with the course's students spread among a million users (section 1d), when it ran.
  const big = platform?.sizes?.['10000'];
  if (big) {
    const p50 = big.last_frame_ms.p50;
    const n = platform!.platform_users.toLocaleString('en');
    rows.push(['9', `The same to 10,000, the students spread among ${n} more users`, '< 300 ms', `${p50} ms (POST ${big.post_ms_p50} ms)`, mark(p50 < 300 && big.all_delivered)]);
  }
  const k = killed?.result;
  if (k) {
    rows.push([
      '9',
      `The same with kill -9 of the job process at ${k.kills.map((x: Json) => x.fraction).join(', ')}`,
      'exactly one row per user and one frame per socket; report the time',
      `${k.rows.toLocaleString('en')} rows, ${k.frames}/${k.frames_expected} frames, ${k.duplicate_frames} duplicates, all rows in ${(k.all_rows_ms / 1000).toFixed(1)} s`,
      mark(k.exactly_one_row_per_user && k.exactly_one_frame_per_socket),
    ]);
  }
  return rows;
}

export function sendsSection(r: Json, table: Table): string[] {
  const x = r.result;
  return [
    table(
      ['users', 'connected', 'POST', 'first frame', 'last frame', 'all rows', 'rows', 'frames', 'duplicates', 'peak RSS', 'bytes/recipient', 'kills'],
      [[
        x.users, x.connected, `${x.post_ms} ms`, `${x.first_frame_ms} ms`, `${x.last_frame_ms} ms`, `${(x.all_rows_ms / 1000).toFixed(1)} s`,
        x.rows, `${x.frames}/${x.frames_expected}`, x.duplicate_frames, `${x.server_peak_rss_mib} MiB`, x.bytes_per_recipient,
        x.kills.length ? JSON.stringify(x.kills) : '-',
      ]],
    ),
  ];
}

/** 9c: one write per socket and nothing else, plain TCP beside `ws`: what any fan-out on this machine costs at least. */
export function socketFloorSection(r: Json, table: Table): string[] {
  const row = (name: string, x: Json) => [name, x.sockets, `${x.loop_ms_p50} ms`, `${x.us_per_write_p50} µs`, `${x.last_frame_ms_p50} ms`];
  return [table(['', 'sockets', 'writing loop, p50', 'per write', 'last frame, p50'], [row('TCP (`net`)', r.tcp), row('WebSocket (`ws`)', r.ws)])];
}
