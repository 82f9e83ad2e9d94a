/** The dispatcher on its own: every event reaches every channel's matching method, whatever another channel does. */
import { Dispatcher, type Channel } from '../../channels';
import { createLogger } from '../../logger';
import { LocalBus } from '../../realtime';
import { LocalEvents, type HeraldEvent } from '../../services/events';

/** A channel that records what it is handed, as `method payload`. */
function recording(name: string, log: string[], opts: { throwOn?: string } = {}): Channel {
  const rec = (method: string) => (payload: unknown) => {
    if (opts.throwOn === method) throw new Error(`${name} broke`);
    log.push(`${name}.${method} ${JSON.stringify(payload)}`);
  };
  return {
    name,
    needsJobQueue: name === 'email',
    notify: rec('notify'),
    readStateChanged: rec('readStateChanged'),
    removed: rec('removed'),
    applicationChanged: rec('applicationChanged'),
    sessionsEnded: rec('sessionsEnded'),
    resync: () => void log.push(`${name}.resync`),
    start: async () => void log.push(`${name}.start`),
    stop: async () => void log.push(`${name}.stop`),
    idle: async () => undefined,
  };
}

const EVENTS: HeraldEvent[] = [
  { type: 'notification.created', recipientId: 1, id: 10 },
  { type: 'notification.fanout', batchId: 'b-1', count: 3, courseId: 2, notificationType: 'announcement' },
  { type: 'notification.read', recipientId: 1, ids: [10] },
  { type: 'notification.read_all', recipientId: 1 },
  { type: 'notification.deleted', recipientId: 1, ids: [10] },
  { type: 'application.changed', applicationId: 5, status: 'approved', courseId: 2, instructorId: 3, candidateId: 1 },
  { type: 'session.ended', sessionIds: ['s1'] },
  { type: 'user.sessions_ended', userId: 1 },
];

test('each event goes to the matching method of every channel, in bus order; a failing channel does not stop the others', async () => {
  const logger = createLogger('silent');
  const events = new LocalEvents();
  const log: string[] = [];
  const bus = new LocalBus(events, logger);
  const dispatcher = new Dispatcher({
    bus,
    logger,
    channels: [recording('in-app', log, { throwOn: 'removed' }), recording('email', log)],
  });
  expect(dispatcher.needsJobQueue).toBe(true);
  await dispatcher.start();
  expect(log.splice(0)).toEqual(['in-app.start', 'email.start']);
  for (const e of EVENTS) bus.publish(e);
  expect(log.filter((l) => l.startsWith('email.'))).toEqual([
    'email.notify {"recipientId":1,"id":10}',
    'email.notify {"batchId":"b-1"}',
    'email.readStateChanged {"recipientId":1,"ids":[10]}',
    'email.readStateChanged {"recipientId":1,"ids":"all"}',
    'email.removed {"recipientId":1,"ids":[10]}',
    'email.applicationChanged {"applicationId":5,"status":"approved","courseId":2,"instructorId":3,"candidateId":1}',
    'email.sessionsEnded {"sessionIds":["s1"]}',
    'email.sessionsEnded {"userId":1}',
  ]);
  // in-app threw on the removal and still got everything after it.
  expect(log.filter((l) => l.startsWith('in-app.')).map((l) => l.split(' ')[0])).toEqual([
    'in-app.notify',
    'in-app.notify',
    'in-app.readStateChanged',
    'in-app.readStateChanged',
    'in-app.applicationChanged',
    'in-app.sessionsEnded',
    'in-app.sessionsEnded',
  ]);
  log.length = 0;
  bus.emit('resync');
  expect(log.splice(0)).toEqual(['in-app.resync', 'email.resync']);

  // Stopping: the bus first (nothing more arrives), then each channel finishes.
  await dispatcher.stop();
  expect(bus.isHealthy()).toBe(false);
  expect(log.splice(0)).toEqual(['in-app.stop', 'email.stop']);
  bus.publish(EVENTS[0]);
  expect(log).toEqual([]);
});
