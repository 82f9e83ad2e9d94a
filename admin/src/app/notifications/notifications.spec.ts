import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { MatDateRangeInputHarness } from '@angular/material/datepicker/testing';
import { Router } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatPaginatorHarness } from '@angular/material/paginator/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatSortHarness } from '@angular/material/sort/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { latestRequest, nextRequest, paramsOf, provideTestApp, settle, setupScreen } from '../../testing/helpers';
import { AdminNotification } from '../core/api.types';
import { FILTER_DEBOUNCE_MS, Notifications } from './notifications';

// This screen has a dozen form fields and each harness step waits for them all; on a shared 2-core machine a
// step has taken over a second, so the 5 s default failed tests that were only slow.
vi.setConfig({ testTimeout: 20_000, hookTimeout: 20_000 });

const isListing = (req: HttpRequest<unknown>) =>
  req.method === 'GET' && req.url === '/api/admin/notifications';
const COURSES = {
  results: [
    { id: 4, title: 'Algebra' },
    { id: 7, title: 'PostgreSQL in Practice' },
  ],
};
const emptyPage = { results: [], total: 0, page: 1, page_size: 25, words: [] };

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
    // The first render of a screen full of form fields is slow on a busy machine: wait longer for it.
    (await nextRequest(http, '/api/courses/', 15_000)).flush(COURSES);

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
      words: [],
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
    second.flush({ ...emptyPage, total: 60, page: 2 });
    await paging;
    await settle(fixture);

    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=recipient]' }))).setValue('ada@example.com');
    const types = await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=type]' }));
    await types.clickOptions({ text: 'Exam result' });
    await types.close();
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
    filtered.flush({ results: [notification(3, { type: 'exam_result' })], total: 1, page: 1, page_size: 25, words: ['final'] });
    await settle(fixture);
    expect((await (await loader.getHarness(MatTableHarness)).getRows()).length).toBe(1);
  });

  it('sorts on the server when a header is clicked', async () => {
    const sort = await loader.getHarness(MatSortHarness);
    const [title] = await sort.getSortHeaders({ label: 'Notification' });
    const clicked = title.click();
    const sorted = await nextRequest(http, isListing);
    expect(paramsOf(sorted)).toMatchObject({ sort: 'title', order: 'asc', page: '1' });
    sorted.flush(emptyPage);
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
    (await nextRequest(http, isListing)).flush(emptyPage);
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
    (await nextRequest(http, isListing)).flush(emptyPage);
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

  it('sends every filter: several types, left-out types, course, state, dates, sender', async () => {
    const types = await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=type]' }));
    await types.clickOptions({ text: 'Message' });
    await types.clickOptions({ text: 'Announcement' });
    await types.close();
    const left = await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=exclude_type]' }));
    await left.clickOptions({ text: 'Course update' });
    await left.close();
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=course]' }))).clickOptions({ text: 'PostgreSQL in Practice' });
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=status]' }))).clickOptions({ text: 'Done (archived)' });
    const range = await loader.getHarness(MatDateRangeInputHarness);
    await (await range.getStartInput()).setValue('3/2/2026');
    await (await range.getEndInput()).setValue('3/4/2026');
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=sender]' }))).setValue('camille');
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=q]' }))).setValue('room -type:message');

    await new Promise((resolve) => setTimeout(resolve, FILTER_DEBOUNCE_MS));
    const filtered = await latestRequest(http, isListing);
    expect(paramsOf(filtered)).toEqual({
      sender: 'camille',
      type: 'message,announcement',
      exclude_type: 'course_update',
      course: '7',
      status: 'done',
      from: new Date(2026, 2, 2).toISOString(),
      to: new Date(2026, 2, 4, 23, 59, 59, 999).toISOString(),
      q: 'room -type:message',
      sort: 'created_at',
      order: 'desc',
      page: '1',
      page_size: '25',
    });
    filtered.flush(emptyPage);
    await settle(fixture);

    // The view is in the address, local days and all, so the link can be shared.
    const url = new URL(TestBed.inject(Router).url, 'http://x');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: 'room -type:message',
      sender: 'camille',
      type: 'message,announcement',
      exclude_type: 'course_update',
      course: '7',
      status: 'done',
      from: '2026-03-02',
      to: '2026-03-04',
    });
    expect(fixture.nativeElement.querySelector('td.empty').textContent).toContain('No notifications match these filters.');

    // Clearing empties the form, the request and the address.
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Clear filters', selector: 'form button' }))).click();
    await new Promise((resolve) => setTimeout(resolve, FILTER_DEBOUNCE_MS));
    const cleared = await latestRequest(http, isListing);
    expect(paramsOf(cleared)).toEqual({ status: 'all', sort: 'created_at', order: 'desc', page: '1', page_size: '25' });
    cleared.flush(emptyPage);
    await settle(fixture);
    expect(TestBed.inject(Router).url).toBe('/');
  });

  it('marks the searched words the server names in titles and messages, as text', async () => {
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=q]' }))).setValue('welcome');
    await new Promise((resolve) => setTimeout(resolve, FILTER_DEBOUNCE_MS));
    (await latestRequest(http, isListing)).flush({
      ...emptyPage,
      total: 1,
      results: [notification(1, { title: 'Welcome <b>aboard</b>', message: 'You are welcome, welcomed' })],
      words: ['welcome'],
    });
    await settle(fixture);
    const cell: HTMLElement = fixture.nativeElement.querySelector('td.title-cell');
    expect([...cell.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['Welcome', 'welcome', 'welcome']);
    expect(cell.querySelector('b')).toBeNull();
    expect(cell.textContent).toContain('Welcome <b>aboard</b>');
  });

  it('shows the server’s message in the page when the search is refused', async () => {
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=q]' }))).setValue('x');
    await new Promise((resolve) => setTimeout(resolve, FILTER_DEBOUNCE_MS));
    (await latestRequest(http, isListing)).flush(
      { error: { code: 'validation', message: 'q: Too big', details: [{ field: 'q', message: 'Too big' }] } },
      { status: 400, statusText: 'Bad Request' },
    );
    await settle(fixture);
    const alert: HTMLElement = fixture.nativeElement.querySelector('[role=alert]');
    expect(alert.textContent).toContain('q: Too big');
    const retried = (await loader.getHarness(MatButtonHarness.with({ text: 'Try again' }))).click();
    (await nextRequest(http, isListing)).flush(emptyPage);
    await retried;
    await settle(fixture);
    expect(fixture.nativeElement.querySelector('[role=alert]')).toBeNull();
  });
});

describe('Notifications opened from a shared link', () => {
  it('starts from the query parameters, dropping what it cannot show', async () => {
    TestBed.configureTestingModule({
      providers: provideTestApp([{ path: 'notifications', component: Notifications }]),
    });
    const http = TestBed.inject(HttpTestingController);
    const harness = await RouterTestingHarness.create();
    const opening = harness.navigateByUrl(
      '/notifications?q=room&type=message,nope&exclude_type=announcement&course=7&status=snoozed' +
        '&from=2026-03-02&to=2026-02-30&sender=ada&sort=title&order=asc',
    );
    (await nextRequest(http, '/api/courses/')).flush(COURSES);
    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({
      q: 'room',
      sender: 'ada',
      type: 'message',
      exclude_type: 'announcement',
      course: '7',
      status: 'snoozed',
      from: new Date(2026, 2, 2).toISOString(),
      sort: 'title',
      order: 'asc',
      page: '1',
      page_size: '25',
    });
    first.flush(emptyPage);
    await opening;
    const loader = TestbedHarnessEnvironment.loader(harness.fixture);
    expect(await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=q]' }))).getValue()).toBe('room');
    expect(await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=course]' }))).getValueText()).toBe(
      'PostgreSQL in Practice',
    );
    expect(await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=status]' }))).getValueText()).toBe('Snoozed');
    http.verify();
  });
});
