import type { ApplicationChange } from '../channels/channel';
import type { Connection, Hub, Protocol } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { ApplicationAudience, Protocols } from './protocols';
import type { RealtimeQueries } from './queries';

export interface ApplicationPushDeps {
  hub: Hub;
  queries: RealtimeQueries;
  protocols: Protocols;
  metrics: RealtimeMetrics;
}

/**
 * What the in-app channel pushes when an application arrives or is decided: the review row, the status chip and the
 * course's counts, to the tabs that show them. A job of its own beside the notification pushes (pushes.ts): its
 * audience is the course's watchers as well as the two people concerned.
 */
export class ApplicationPushes {
  readonly #d: ApplicationPushDeps;

  constructor(deps: ApplicationPushDeps) {
    this.#d = deps;
  }

  /**
   * An application arrived or was decided. Its course's instructor gets the review row (on top of the list when
   * new, in place when decided) and the course's counts; on a decision the candidate gets every piece that shows
   * the application (status chip, apply panel, catalog card, enrolled count); every other tab that said it shows
   * the course (`watch`: catalog cards, the course page) gets the enrolled count when an approval moved it, and
   * admins' tabs the pending count too. Only sockets whose protocol shows applications (the JSON protocol hears of
   * it through the notification). ONE read for the event, one render per audience and protocol, and nothing at
   * all when nobody concerned is connected so: the watch index is a map lookup, not a scan of every socket.
   */
  async applicationChanged(e: ApplicationChange, publishedAt: number): Promise<void> {
    const { hub, queries, protocols, metrics } = this.#d;
    const decided = e.status !== 'pending';
    const shows = (c: Connection) => protocols[c.protocol].application !== undefined;
    const audiences: Array<[Connection[], ApplicationAudience]> = [
      [[...(hub.of(e.instructorId) ?? [])].filter(shows), 'instructor'],
      [decided ? [...(hub.of(e.candidateId) ?? [])].filter(shows) : [], 'candidate'],
      [[], 'viewer'],
      [[], 'adminViewer'],
    ];
    const served = new Set([...audiences[0][0], ...audiences[1][0]]);
    for (const c of hub.watching(e.courseId) ?? []) {
      if (served.has(c) || !shows(c)) continue;
      if (c.isAdmin) audiences[3][0].push(c);
      else if (e.status === 'approved') audiences[2][0].push(c); // only an approval moves the enrolled count
    }
    if (audiences.every(([conns]) => conns.length === 0)) return;
    const row = await queries.application(e.applicationId);
    // Deleted meanwhile, or an event that does not match the row: push nothing rather than to the wrong people.
    const a = row?.application;
    if (!row || !a || a.course.instructor_id !== e.instructorId || a.candidate.id !== e.candidateId || a.course.id !== e.courseId) return;
    for (const [conns, audience] of audiences) {
      const frames = new Map<Protocol, string>();
      for (const c of conns) {
        const render = protocols[c.protocol].application;
        if (!render) continue;
        let frame = frames.get(c.protocol);
        if (frame === undefined) frames.set(c.protocol, (frame = render(row, audience, !decided)));
        c.push(frame);
        metrics.pushed.inc({ protocol: c.protocol });
      }
    }
    metrics.pushLatency.observe({ event: 'application.changed' }, (Date.now() - publishedAt) / 1000);
  }
}
