import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatButtonToggleGroupHarness } from '@angular/material/button-toggle/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { nextRequest, paramsOf, settle, setupScreen } from '../../testing/helpers';
import { Application } from '../core/api.types';
import { Applications } from './applications';

const isListing = (req: HttpRequest<unknown>) => req.url === '/api/admin/applications';

const pending: Application = {
  id: 7,
  status: 'pending',
  motivation: 'I love databases.',
  reason: null,
  created_at: '2026-11-01T09:00:00Z',
  decided_at: null,
  candidate: { id: 3, name: 'Cand Idate', email: 'cand@example.com' },
  course: { id: 4, title: 'Databases' },
};

describe('Applications', () => {
  let fixture: ComponentFixture<Applications>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Applications));

    (await nextRequest(http, '/api/courses/')).flush({
      results: [
        { id: 4, title: 'Databases', description: '', instructor: null, enrolled_count: 3 },
        { id: 5, title: 'Networks', description: '', instructor: null, enrolled_count: 1 },
      ],
    });
    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({ status: 'pending', page: '1', page_size: '25' });
    first.flush({ results: [pending], total: 1, page: 1, page_size: 25 });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  it('lists pending applications and filters by status and course', async () => {
    const rows = await (await loader.getHarness(MatTableHarness)).getRows();
    expect(rows.length).toBe(1);
    expect((await rows[0].getCellTextByColumnName())['candidate']).toContain('Cand Idate');

    const group = await loader.getHarness(MatButtonToggleGroupHarness);
    const [rejected] = await group.getToggles({ text: 'Rejected' });
    const toggling = rejected.check();
    const byStatus = await nextRequest(http, isListing);
    expect(paramsOf(byStatus)).toEqual({ status: 'rejected', page: '1', page_size: '25' });
    byStatus.flush({ results: [], total: 0, page: 1, page_size: 25 });
    await toggling;

    const choosing = (await loader.getHarness(MatSelectHarness)).clickOptions({ text: 'Networks' });
    const byCourse = await nextRequest(http, isListing);
    expect(paramsOf(byCourse)).toEqual({ status: 'rejected', course_id: '5', page: '1', page_size: '25' });
    byCourse.flush({ results: [], total: 0, page: 1, page_size: 25 });
    await choosing;
  });

  it('approves with one click', async () => {
    const clicked = (await loader.getHarness(MatButtonHarness.with({ text: /Approve/ }))).click();
    const approve = await nextRequest(http, '/api/applications/7/approve/');
    expect(approve.request.method).toBe('POST');
    approve.flush({ ...pending, status: 'approved' });
    (await nextRequest(http, isListing)).flush({ results: [], total: 0, page: 1, page_size: 25 });
    await clicked;
  });

  it('posts the reason typed in the reject dialog', async () => {
    await (await loader.getHarness(MatButtonHarness.with({ text: /Reject/ }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getContentText()).toContain('Cand Idate applied to Databases');

    // An empty reason is refused in the dialog itself.
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Reject' }))).click();
    http.expectNone('/api/applications/7/reject/');

    await (await dialog.getHarness(MatInputHarness)).setValue('  The course is full.  ');
    const submitted = (await dialog.getHarness(MatButtonHarness.with({ text: 'Reject' }))).click();
    const reject = await nextRequest(http, '/api/applications/7/reject/');
    expect(reject.request.method).toBe('POST');
    expect(reject.request.body).toEqual({ reason: 'The course is full.' });
    reject.flush({ ...pending, status: 'rejected', reason: 'The course is full.' });
    (await nextRequest(http, isListing)).flush({ results: [], total: 0, page: 1, page_size: 25 });
    await submitted;
    await settle(fixture);
    expect(await root.getAllHarnesses(MatDialogHarness)).toHaveLength(0);
  });
});
