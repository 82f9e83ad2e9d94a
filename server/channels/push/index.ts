export { pushMessage, type PushMessage, type PushPayload, type PushableNotification } from './message';
export { PushSender, retryAfterMs, type OriginHolds, type PushOutcome, type PushSend, type PushSenderDeps, type SendReport } from './sender';
export { pushChunk, type PushChunkDeps } from './chunk';
export { noVisibleTab } from './decide';
export { PUSH_TASK, pushTasks, type ClaimedPush, type PushDeliveries, type PushJob, type PushSource, type PushTaskDeps } from './task';
export { pushLeaseEnd, pushQuietEnd, pushSource } from './source';
export { pushChannelTasks } from './tasks';
export { PUSH_RETRY_TASK, pushRetrySource, pushRetryTasks, type PushRetryPayload } from './retry';
