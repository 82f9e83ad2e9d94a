import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { expectStatus, request } from './http';
import { nowMs, sleep } from './log';
import { cpuMs, cpuSince, cpuSnapshot, postgresPids, type BenchServer } from './server';
import { percentile, round } from './stats';
import type { WsFleet } from './ws-fleet';

/** The type every bench fan-out sends (the email benches store preferences for it). */
export const FANOUT_TYPE = 'announcement';

export interface FanOutRun {
  /** POST sent -> the last connected student's frame arrived. */
  last_frame_ms: number;
  /** POST sent -> half of the students had their frame. */
  median_frame_ms: number;
  /** POST sent -> the HTTP 201 came back (the INSERT ... SELECT committed). */
  post_ms: number;
  expected: number;
  delivered: number;
  server_cpu_ms: number;
  postgres_cpu_ms: number;
}

/**
 * One notify-students as the instructor, timed to the last student's frame. The fleet is armed (every worker
 * listening for this run's marker) before the POST leaves, so no frame can be missed.
 */
export async function fanOutOnce(o: {
  server: BenchServer;
  fleet: WsFleet;
  agent: http.Agent;
  instructor: { cookie: string; csrf_token: string; course_id: number };
  timeoutMs: number;
}): Promise<FanOutRun> {
  const marker = `m${randomBytes(6).toString('hex')}`;
  const armed = await o.fleet.expect(marker, o.timeoutMs);
  const pids = o.server.pids();
  const pg = postgresPids();
  const cpu0 = cpuMs(pids);
  const pg0 = cpuSnapshot(pg);
  const t0 = nowMs();
  const res = await request(o.server.origin, 'POST', `/api/courses/${o.instructor.course_id}/notify-students/`, {
    agent: o.agent,
    cookie: o.instructor.cookie,
    csrf: o.instructor.csrf_token,
    json: { notification_type: FANOUT_TYPE, title: `Bench fan-out ${marker}`, message: 'Seeded by the benchmarks.' },
  });
  expectStatus(res, [201], 'notify-students');
  const delivery = await armed.done;
  // The CPU of the run includes whatever the server still does right after the last send.
  await sleep(100);
  const last = delivery.times.length ? Math.max(...delivery.times) : NaN;
  return {
    last_frame_ms: round(last - t0),
    median_frame_ms: round(percentile(delivery.times, 50) - t0),
    post_ms: round(res.ms),
    expected: armed.expected,
    delivered: delivery.count,
    server_cpu_ms: cpuMs(pids) - cpu0,
    postgres_cpu_ms: cpuSince(pg0),
  };
}
