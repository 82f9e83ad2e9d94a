import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { latestRequest, nextRequest, paramsOf, settle, setupScreen } from '../../testing/helpers';
import { Delivery } from '../core/api.types';
import { Deliveries } from './deliveries';

const isListing = (req: HttpRequest<unknown>) => req.url === '/api/admin/deliveries';

function delivery(id: number, changes: Partial<Delivery> = {}): Delivery {
  return {
    id,
    notification_id: 100 + id,
    recipient_id: 7,
    channel: 'email',
    status: 'sent',
    attempts: 1,
    last_error: null,
    provider_message_id: `<d${id}@herald>`,
    created_at: '2026-11-20T08:00:00Z',
    updated_at: '2026-11-20T08:00:01Z',
    sent_at: '2026-11-20T08:00:01Z',
    ...changes,
  };
}

describe('Deliveries', () => {
  let fixture: ComponentFixture<Deliveries>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Deliveries));
    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({ limit: '50' });
    first.flush({
      results: [delivery(3, { status: 'failed', last_error: '550 mailbox unavailable', sent_at: null }), delivery(2)],
      next_cursor: 'c2',
    });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  const table = () => loader.getHarness(MatTableHarness);
  const cellTexts = async () =>
    Promise.all((await (await table()).getRows()).map((r) => r.getCellTextByColumnName()));

  it('lists deliveries with their status and error; only failed rows offer Retry', async () => {
    const rows = await cellTexts();
    expect(rows.map((r) => r['id'])).toEqual(['3', '2']);
    expect(rows[0]['status']).toBe('failed');
    expect(rows[0]['last_error']).toContain('550 mailbox unavailable');
    expect(rows[0]['actions']).toContain('Retry');
    expect(rows[1]['actions']).toBe('');
  });

  it('"More" appends the next keyset page', async () => {
    // An open request keeps the app unstable, so the click is awaited after the answer.
    const clicked = (await loader.getHarness(MatButtonHarness.with({ text: 'More' }))).click();
    const next = await nextRequest(http, isListing);
    expect(paramsOf(next)).toEqual({ limit: '50', cursor: 'c2' });
    next.flush({ results: [delivery(1)], next_cursor: null });
    await clicked;
    await settle(fixture);
    expect((await cellTexts()).map((r) => r['id'])).toEqual(['3', '2', '1']);
    expect(await loader.getAllHarnesses(MatButtonHarness.with({ text: 'More' }))).toEqual([]);
  });

  it('filters by channel, status and recipient, starting again from the newest', async () => {
    const [channel, status] = await loader.getAllHarnesses(MatSelectHarness);
    const picked = channel.clickOptions({ text: 'push' });
    const byChannel = await nextRequest(http, isListing);
    expect(paramsOf(byChannel)).toEqual({ channel: 'push', limit: '50' });
    byChannel.flush({ results: [delivery(9, { channel: 'push' })], next_cursor: null });
    await picked;
    await settle(fixture);
    expect((await cellTexts()).map((r) => r['id'])).toEqual(['9']);

    const pickedStatus = status.clickOptions({ text: 'failed' });
    const byStatus = await nextRequest(http, isListing);
    expect(paramsOf(byStatus)).toEqual({ channel: 'push', status: 'failed', limit: '50' });
    byStatus.flush({ results: [], next_cursor: null });
    await pickedStatus;
    await settle(fixture);

    const typed = (await loader.getHarness(MatInputHarness)).setValue('42');
    const byRecipient = await latestRequest(http, isListing);
    expect(paramsOf(byRecipient)).toEqual({ channel: 'push', status: 'failed', recipient: '42', limit: '50' });
    byRecipient.flush({ results: [], next_cursor: null });
    await typed;
    await settle(fixture);
    expect(await cellTexts()).toEqual([]);
  });

  it('retries a failed delivery and shows it pending', async () => {
    const clicked = (await loader.getHarness(MatButtonHarness.with({ text: /Retry/ }))).click();
    const post = await nextRequest(http, '/api/admin/deliveries/3/retry');
    expect(post.request.method).toBe('POST');
    post.flush(delivery(3, { status: 'pending', last_error: '550 mailbox unavailable', sent_at: null }));
    await clicked;
    await settle(fixture);
    const rows = await cellTexts();
    expect(rows[0]['status']).toBe('pending');
    expect(rows[0]['actions']).toBe('');
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe('Delivery 3 will be sent again.');
  });

  it('keeps the row as it was when the server refuses the retry', async () => {
    const clicked = (await loader.getHarness(MatButtonHarness.with({ text: /Retry/ }))).click();
    (await nextRequest(http, '/api/admin/deliveries/3/retry')).flush(
      { error: { code: 'conflict', message: 'Only a failed delivery can be retried; this one is sent.', details: null } },
      { status: 409, statusText: 'Conflict' },
    );
    await clicked;
    await settle(fixture);
    expect((await cellTexts())[0]['status']).toBe('failed');
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toContain('Only a failed delivery');
  });
});
