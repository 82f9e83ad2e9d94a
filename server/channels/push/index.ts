export { pushMessage, type PushMessage, type PushPayload, type PushableNotification } from './message';
export { PushSender, retryAfterMs, type PushSenderDeps, type SendReport } from './sender';
export { noVisibleTab, VISIBLE_STALE_SECONDS } from './decide';
