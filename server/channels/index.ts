export { Dispatcher } from './dispatcher';
export type { ApplicationChange, Channel, NewNotifications, ReadStateChange, Removal, SessionsEnded } from './channel';
