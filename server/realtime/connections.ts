import type { Logger } from '../logger';
import type { Services } from '../services';
import type { SocketChores } from './chores';
import { CloseCode } from './codes';
import type { Connection, Hub } from './hub';
import { answerMessage } from './messages';
import type { RealtimeMetrics } from './metrics';
import type { Protocols } from './protocols';
import type { Snapshots } from './snapshots';
import type { ConnectionSink, WsLimits } from './ws';

/**
 * Where sockets and event streams of this process come and go (the ws adapter's and the SSE stream's sink): the
 * per-session and per-user caps, the snapshot of a new connection, client messages and tab visibility. The event
 * side of the in-app channel (Realtime) never sees a connection arrive; it only finds them in the hub.
 */
export class Connections implements ConnectionSink {
  #stopping = false;

  constructor(
    private readonly d: {
      hub: Hub;
      limits: WsLimits;
      snapshots: Snapshots;
      chores: SocketChores;
      protocols: Protocols;
      metrics: RealtimeMetrics;
      notifications: Services['notifications'];
      logger: Logger;
    },
  ) {}

  /** From now on a new connection is turned away with 1012 (a graceful stop is under way). */
  stop(): void {
    this.#stopping = true;
  }

  connected(c: Connection, since: number | undefined): void {
    const { hub, limits } = this.d;
    if (this.#stopping) return c.close(CloseCode.ServiceRestart, 'server restart');
    // A reload loop or a runaway script must not pin unbounded sockets (and memory) here. Counted per process.
    // 1008: hx-ws does not retry it, so a surplus tab stays quiet instead of knocking again and again.
    if (hub.sessionSize(c.sessionId) >= limits.maxSocketsPerSession) {
      return c.close(CloseCode.PolicyViolation, 'too many connections for this session');
    }
    if ((hub.of(c.userId)?.size ?? 0) >= limits.maxSocketsPerUser) {
      return c.close(CloseCode.PolicyViolation, 'too many connections for this user');
    }
    hub.add(c);
    // A failed snapshot closes its connection itself (1011: hx-ws retries, and the retry gets a new snapshot).
    this.d.snapshots
      .send([c], since === undefined ? undefined : new Map([[c, since]]))
      .catch((err: unknown) => this.d.logger.error({ err }, 'snapshot failed'));
  }

  message(c: Connection, text: string): void {
    const { hub, chores, protocols } = this.d;
    // The database hears of it only when the user's state on this process changes.
    const visibility = (conn: Connection, visible: boolean) => hub.setVisible(conn, visible) && chores.recordVisible(conn.userId, visible);
    const watch = (conn: Connection, courseIds: number[]) => hub.watch(conn, courseIds);
    answerMessage({ notifications: this.d.notifications, protocols, visibility, watch }, c, text).catch((err: unknown) => {
      this.d.logger.error({ err }, 'websocket message failed');
      c.sendNow(protocols[c.protocol].error('internal', 'Something went wrong.'));
    });
  }

  disconnected(c: Connection): void {
    this.d.hub.remove(c);
    if (c.visible && !this.d.hub.isVisible(c.userId)) this.d.chores.recordVisible(c.userId, false);
  }

  closedByServer(code: number): void {
    this.d.metrics.closed.inc({ code: String(code) });
  }
}
