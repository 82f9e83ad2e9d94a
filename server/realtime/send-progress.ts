import type { SendProgress } from '../channels/channel';
import type { CourseService } from '../services/courses';
import type { SendService } from '../services/notifications/sends';
import type { DeliveryQueue } from './delivery';
import type { Connection, Hub } from './hub';
import type { RealtimeMetrics } from './metrics';
import type { Protocols, SendAudience } from './protocols';

/**
 * A recorded send's progress, live for the few who follow it (issue 17): its sender's tabs (JSON sockets and event
 * streams get `send_progress`, pages its row in "Recently sent") and, on pages showing its course, the course's other
 * managers: admins (who may cancel it too) and the course's instructor. Never the send's audience: a handful of
 * sockets per event, whatever the send's size.
 *
 * Coalesced per send: while a push for a send waits its turn, further events for it add nothing, since the push
 * reads the send when it runs and so carries its newest state (a burst of chunks queued behind slow work is one
 * frame). Pushes run beside the main queue: a progress frame never waits for a chunk's fan-out to thousands.
 */
export class SendProgressPushes {
  readonly #hub: Hub;
  readonly #protocols: Protocols;
  readonly #metrics: RealtimeMetrics;
  readonly #delivery: DeliveryQueue;
  readonly #sends: Pick<SendService, 'find'>;
  readonly #courses: Pick<CourseService, 'get'>;
  /** Sends whose push is queued and has not read the send yet. */
  readonly #queued = new Set<string>();

  constructor(deps: {
    hub: Hub;
    protocols: Protocols;
    metrics: RealtimeMetrics;
    delivery: DeliveryQueue;
    sends: Pick<SendService, 'find'>;
    courses: Pick<CourseService, 'get'>;
  }) {
    this.#hub = deps.hub;
    this.#protocols = deps.protocols;
    this.#metrics = deps.metrics;
    this.#delivery = deps.delivery;
    this.#sends = deps.sends;
    this.#courses = deps.courses;
  }

  /** Every process hears every event: one with none of its followers connected reads nothing. */
  progress(p: SendProgress): void {
    if (!this.#followed(p) || this.#queued.has(p.batchId)) return;
    this.#queued.add(p.batchId);
    void this.#delivery.beside('broadcast.progress', async () => {
      this.#queued.delete(p.batchId); // an event from here on is newer than what is read below: it queues again
      await this.#push(p.batchId);
    });
  }

  #followed(p: SendProgress): boolean {
    if (p.senderId !== null && this.#hub.hasUser(p.senderId)) return true;
    return p.courseId !== null && (this.#hub.watching(p.courseId)?.size ?? 0) > 0;
  }

  async #push(batchId: string): Promise<void> {
    const send = await this.#sends.find(batchId);
    if (!send) return;
    const targets: Array<[Connection, SendAudience]> = [];
    if (send.senderId !== null) for (const c of this.#hub.of(send.senderId) ?? []) targets.push([c, 'sender']);
    if (send.courseId !== null) {
      const others = [...(this.#hub.watching(send.courseId) ?? [])].filter((c) => c.userId !== send.senderId);
      // Candidates watch course pages too: only the course's instructor among the non-admins gets its row.
      const instructorId = others.some((c) => !c.isAdmin) ? await this.#instructorOf(send.courseId) : undefined;
      for (const c of others) {
        if (c.isAdmin) targets.push([c, 'admin']);
        else if (c.userId === instructorId) targets.push([c, 'instructor']);
      }
    }
    // One frame per protocol and audience, however many tabs.
    const frames = new Map<string, string | undefined>();
    for (const [c, audience] of targets) {
      const protocol = this.#protocols[c.protocol];
      if (!protocol.sendProgress) continue;
      const key = `${protocol.name}:${audience}`;
      if (!frames.has(key)) frames.set(key, protocol.sendProgress(send, audience));
      const frame = frames.get(key);
      if (frame === undefined) continue;
      c.push(frame);
      this.#metrics.pushed.inc({ protocol: protocol.name });
    }
  }

  async #instructorOf(courseId: number): Promise<number | undefined> {
    try {
      return (await this.#courses.get(null, courseId)).instructor.id;
    } catch {
      return undefined; // the course is gone: nobody's page shows it any more
    }
  }
}
