import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatPaginatorHarness } from '@angular/material/paginator/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatSortHarness } from '@angular/material/sort/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { latestRequest, nextRequest, paramsOf, settle, setupScreen } from '../../testing/helpers';
import { AdminNotification } from '../core/api.types';
import { FILTER_DEBOUNCE_MS, Notifications } from './notifications';

const isListing = (req: HttpRequest<unknown>) =>
  req.method === 'GET' && req.url === '/api/admin/notifications';

function notification(id: number, overrides: Partial<AdminNotification> = {}): AdminNotification {
  return {
    id,
    type: 'message',
    title: `Title ${id}`,
    message: `Message ${id}`,
    data: {},
    is_read: false,
    read_at: null,
    created_at: '2026-11-20T10:00:00Z',
    done_at: null,
    snoozed_until: null,
    sender: null,
    application_id: null,
    course_id: null,
    course_title: null,
    recipient: { id: 10 + id, name: `Person ${id}`, email: `p${id}@example.com`, role: 'candidate' },
    ...overrides,
  };
}

describe('Notifications', () => {
  let fixture: ComponentFixture<Notifications>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Notifications));

    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({
      status: 'all',
      sort: 'created_at',
      order: 'desc',
      page: '1',
      page_size: '25',
    });
    first.flush({
      results: [
        notification(1, { type: 'announcement', title: 'Welcome' }),
        notification(2, { is_read: true }),
      ],
      total: 60,
      page: 1,
      page_size: 25,
    });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  it('renders one row per notification from the server', async () => {
    const table = await loader.getHarness(MatTableHarness);
    const rows = await table.getRows();
    expect(rows.length).toBe(2);
    const first = await rows[0].getCellTextByColumnName();
    expect(first['title']).toContain('Welcome');
    expect(first['type']).toContain('Announcement');
    expect(first['recipient']).toContain('p1@example.com');
    expect(first['status']).toContain('Unread');
    expect((await rows[1].getCellTextByColumnName())['status']).toContain('Read');
    expect(await (await loader.getHarness(MatPaginatorHarness)).getRangeLabel()).toBe('1 – 25 of 60');
  });

  it('sends the filters as query parameters and goes back to page 1', async () => {
    // Harness actions wait for stability, which an open request prevents: start, answer, await.
    const paging = (await loader.getHarness(MatPaginatorHarness)).goToNextPage();
    const second = await nextRequest(http, isListing);
    expect(paramsOf(second)['page']).toBe('2');
    second.flush({ results: [], total: 60, page: 2, page_size: 25 });
    await paging;
    await settle(fixture);

    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=recipient]' }))).setValue('ada@example.com');
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=type]' }))).clickOptions({ text: 'Exam result' });
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=status]' }))).clickOptions({ text: 'Unread' });
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=q]' }))).setValue('  final  ');

    await new Promise((resolve) => setTimeout(resolve, FILTER_DEBOUNCE_MS));
    const filtered = await latestRequest(http, isListing);
    expect(paramsOf(filtered)).toEqual({
      recipient: 'ada@example.com',
      type: 'exam_result',
      status: 'unread',
      q: 'final',
      sort: 'created_at',
      order: 'desc',
      page: '1',
      page_size: '25',
    });
    filtered.flush({ results: [notification(3, { type: 'exam_result' })], total: 1, page: 1, page_size: 25 });
    await settle(fixture);
    expect((await (await loader.getHarness(MatTableHarness)).getRows()).length).toBe(1);
  });

  it('sorts on the server when a header is clicked', async () => {
    const sort = await loader.getHarness(MatSortHarness);
    const [title] = await sort.getSortHeaders({ label: 'Notification' });
    const clicked = title.click();
    const sorted = await nextRequest(http, isListing);
    expect(paramsOf(sorted)).toMatchObject({ sort: 'title', order: 'asc', page: '1' });
    sorted.flush({ results: [], total: 0, page: 1, page_size: 25 });
    await clicked;
    await settle(fixture);
  });

  it('deletes the ticked rows after confirmation', async () => {
    const boxes = await loader.getAllHarnesses(MatCheckboxHarness.with({ selector: 'td mat-checkbox' }));
    await boxes[0].check();
    await boxes[1].check();
    await (await loader.getHarness(MatButtonHarness.with({ text: /Delete selected/ }))).click();

    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getTitleText()).toBe('Delete 2 notifications?');
    const confirmed = (await dialog.getHarness(MatButtonHarness.with({ text: 'Delete' }))).click();

    const bulk = await nextRequest(http, '/api/admin/notifications/bulk-delete');
    expect(bulk.request.method).toBe('POST');
    expect(bulk.request.body).toEqual({ ids: [1, 2] });
    bulk.flush({ deleted: 2 });
    (await nextRequest(http, isListing)).flush({ results: [], total: 0, page: 1, page_size: 25 });
    await confirmed;
    await settle(fixture);

    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe('Deleted 2 notifications.');
  });

  it('shows the server message when a delete fails', async () => {
    await (await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label="Delete “Welcome”"]' }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    const confirmed = (await dialog.getHarness(MatButtonHarness.with({ text: 'Delete' }))).click();

    const del = await nextRequest(http, '/api/admin/notifications/1');
    expect(del.request.method).toBe('DELETE');
    del.flush(
      { error: { code: 'not_found', message: 'Notification 1 no longer exists', details: null } },
      { status: 404, statusText: 'Not Found' },
    );
    (await nextRequest(http, isListing)).flush({ results: [], total: 0, page: 1, page_size: 25 });
    await confirmed;
    await settle(fixture);

    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe(
      'Notification 1 no longer exists',
    );
  });

  it('opens the details in a dialog and loads the fresh copy', async () => {
    const button = await loader.getHarness(
      MatButtonHarness.with({ selector: '[aria-label="Details of “Welcome”"]' }),
    );
    const clicked = button.click();
    const detail = await nextRequest(http, '/api/admin/notifications/1');
    detail.flush(notification(1, { type: 'announcement', title: 'Welcome', data: { link: '/courses/4' } }));
    await clicked;
    await settle(fixture);
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getTitleText()).toContain('Welcome');
    expect(await dialog.getContentText()).toContain('/courses/4');
  });
});
