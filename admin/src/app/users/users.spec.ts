import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { nextRequest, paramsOf, settle, setupScreen } from '../../testing/helpers';
import { AdminUser } from '../core/api.types';
import { Auth } from '../core/auth';
import { Users } from './users';

const isListing = (req: HttpRequest<unknown>) => req.url === '/api/admin/users';

const bob: AdminUser = {
  id: 5,
  email: 'bob@example.com',
  name: 'Bob',
  role: 'candidate',
  is_active: true,
  last_login_at: '2026-11-20T08:00:00Z',
  created_at: '2026-01-02T08:00:00Z',
};
const me: AdminUser = { ...bob, id: 1, email: 'ada@example.com', name: 'Ada', role: 'admin' };

describe('Users', () => {
  let fixture: ComponentFixture<Users>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    // Signed in as Ada, so her own row is locked.
    ({ fixture, loader, root, http } = await setupScreen(Users, async (backend) => {
      const signingIn = TestBed.inject(Auth).session();
      (await nextRequest(backend, '/api/auth/csrf')).flush({
        csrf_token: 'tok',
        user: { id: 1, email: me.email, name: 'Ada', role: 'admin' },
      });
      expect(await signingIn).toMatchObject({ id: 1, role: 'admin' });
    }));
    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({ page: '1', page_size: '25' });
    first.flush({ results: [me, bob], total: 2, page: 1, page_size: 25 });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  const roleSelect = (name: string) =>
    loader.getHarness(MatSelectHarness.with({ selector: `[aria-label="Role of ${name}"]` }));

  it('shows role and last sign-in, and locks the signed-in admin', async () => {
    const rows = await (await loader.getHarness(MatTableHarness)).getRows();
    const cells = await rows[1].getCellTextByColumnName();
    expect(cells['user']).toContain('bob@example.com');
    expect(cells['last_login_at']).toContain('20 Nov 2026');
    expect(await (await roleSelect('Bob')).getValueText()).toBe('candidate');
    expect(await (await roleSelect('Ada')).isDisabled()).toBe(true);
  });

  it('changes a role after confirmation', async () => {
    await (await roleSelect('Bob')).clickOptions({ text: 'instructor' });
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getContentText()).toContain('Bob (bob@example.com) will become an instructor');
    const confirmed = (await dialog.getHarness(MatButtonHarness.with({ text: 'Make instructor' }))).click();
    const patch = await nextRequest(http, '/api/admin/users/5');
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ role: 'instructor' });
    patch.flush({ ...bob, role: 'instructor' });
    await confirmed;
    await settle(fixture);
    expect(await (await roleSelect('Bob')).getValueText()).toBe('instructor');
  });

  it('puts the old role back when the change is cancelled', async () => {
    await (await roleSelect('Bob')).clickOptions({ text: 'admin' });
    await (await (await root.getHarness(MatDialogHarness)).getHarness(MatButtonHarness.with({ text: 'Cancel' }))).click();
    await settle(fixture);
    http.expectNone('/api/admin/users/5');
    expect(await (await roleSelect('Bob')).getValueText()).toBe('candidate');
  });

  it('deactivates a user and shows server errors in a snackbar', async () => {
    await (await loader.getHarness(MatButtonHarness.with({ text: /Deactivate Bob/ }))).click();
    const confirmed = (await (await root.getHarness(MatDialogHarness)).getHarness(MatButtonHarness.with({ text: 'Deactivate' }))).click();
    const patch = await nextRequest(http, '/api/admin/users/5');
    expect(patch.request.body).toEqual({ is_active: false });
    patch.flush(
      { error: { code: 'conflict', message: 'Bob owns 2 courses', details: null } },
      { status: 409, statusText: 'Conflict' },
    );
    await confirmed;
    await settle(fixture);
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe('Bob owns 2 courses');
  });
});
