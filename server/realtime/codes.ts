/**
 * WebSocket close codes, named. htmx's hx-ws reconnects only after 1001, 1005, 1006 and 1011-1014, so the codes
 * that mean "do not come back with the same credentials" (4401, 1008, 1009) stop its retry loop, and the ones
 * that mean "come back and take a fresh snapshot" (1012, 1013) keep it going.
 */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** Flooding, too many sockets for one session or user, or a message we refuse to process. Do not simply retry. */
  PolicyViolation: 1008,
  /** Frame larger than maxPayload (ws sends this itself). */
  TooBig: 1009,
  /** The snapshot could not be built (database trouble): reconnect, the retry gets a new one. */
  InternalError: 1011,
  /** The process is stopping: reconnect, another process will take over. */
  ServiceRestart: 1012,
  /** The send buffer outgrew its bound: reconnect and start over from a snapshot. */
  TryAgainLater: 1013,
  /** No session, or the session ended (logout, expiry, deactivation). Log in again first. */
  Unauthorized: 4401,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
