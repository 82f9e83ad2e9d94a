/** The in-app channel's ordered queue on its own: order and batching, no sockets and no database. */
import { DeliveryQueue, type CreatedItem } from '../../realtime/delivery';

/** A promise the test resolves when it wants the step holding it to finish. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

function recorder() {
  const log: string[] = [];
  const errors: unknown[] = [];
  const gates: Array<ReturnType<typeof gate>> = [];
  const queue = new DeliveryQueue({
    logger: { error: (obj: unknown) => void errors.push(obj) },
    onCreated: async (batch: CreatedItem[]) => {
      log.push(`start new ${batch.map((e) => e.id).join(',')}`);
      const g = gates.shift();
      if (g) await g.done;
      log.push(`end new ${batch.map((e) => e.id).join(',')}`);
    },
  });
  const step = (name: string, wait?: Promise<void>) => async () => {
    log.push(`start ${name}`);
    if (wait) await wait;
    log.push(`end ${name}`);
  };
  return { queue, log, errors, gates, step };
}

const created = (id: number): CreatedItem => ({ recipientId: 1, id, publishedAt: Date.now() });

test('consecutive created events queued behind running work are handled as one batch, in order', async () => {
  const { queue, log, step } = recorder();
  const busy = gate();
  void queue.inOrder('notification.fanout', step('fanout', busy.done));
  for (const id of [1, 2, 3]) void queue.created(created(id));
  busy.open();
  await queue.idle();
  expect(log).toEqual(['start fanout', 'end fanout', 'start new 1,2,3', 'end new 1,2,3']);
});

test('read never overtakes the new notification it refers to, however slow the new one is', async () => {
  const { queue, log, gates, step } = recorder();
  const slow = gate();
  gates.push(slow);
  void queue.created(created(10));
  void queue.inOrder('notification.read', step('read 10'));
  await new Promise((r) => setTimeout(r, 20));
  expect(log).toEqual(['start new 10']); // the read waits, though it could have run at once
  slow.open();
  await queue.idle();
  expect(log).toEqual(['start new 10', 'end new 10', 'start read 10', 'end read 10']);
});

test('any other event closes the batch: created events after it form the next one', async () => {
  const { queue, log, gates, step } = recorder();
  const first = gate();
  gates.push(first);
  void queue.created(created(1));
  await new Promise((r) => setTimeout(r, 0)); // the batch of 1 is running now, so 2 cannot join it
  void queue.created(created(2));
  void queue.created(created(3));
  void queue.inOrder('notification.read', step('read'));
  void queue.created(created(4));
  void queue.created(created(5));
  first.open();
  await queue.idle();
  expect(log).toEqual([
    'start new 1',
    'end new 1',
    'start new 2,3',
    'end new 2,3',
    'start read',
    'end read',
    'start new 4,5',
    'end new 4,5',
  ]);
});

test('work beside the main chain keeps its own order and does not split a batch', async () => {
  const { queue, log, step } = recorder();
  const busy = gate();
  const beside = gate();
  void queue.inOrder('notification.fanout', step('fanout', busy.done));
  void queue.created(created(1));
  void queue.beside('application.changed', step('applied', beside.done));
  void queue.beside('application.changed', step('approved'));
  void queue.created(created(2));
  beside.open();
  await new Promise((r) => setTimeout(r, 10));
  busy.open();
  await queue.idle();
  expect(log.filter((l) => l.includes('new'))).toEqual(['start new 1,2', 'end new 1,2']);
  expect(log.filter((l) => l.includes('app'))).toEqual(['start applied', 'end applied', 'start approved', 'end approved']);
});

test('a failing step is logged and the next one still runs', async () => {
  const { queue, log, errors, step } = recorder();
  void queue.inOrder('notification.read', async () => {
    throw new Error('database unreachable');
  });
  void queue.inOrder('notification.deleted', step('deleted'));
  await queue.idle();
  expect(errors).toHaveLength(1);
  expect(log).toEqual(['start deleted', 'end deleted']);
});
