import { HarnessLoader } from '@angular/cdk/testing';
import { HttpRequest } from '@angular/common/http';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatSlideToggleHarness } from '@angular/material/slide-toggle/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { nextRequest, paramsOf, settle, setupScreen } from '../../testing/helpers';
import { AdminAccessToken } from '../core/api.types';
import { Auth } from '../core/auth';
import { Tokens } from './tokens';

const isListing = (req: HttpRequest<unknown>) => req.url === '/api/admin/tokens';

const exporter: AdminAccessToken = {
  id: 7,
  user_id: 5,
  name: 'exporter',
  scopes: ['notifications:read'],
  prefix: 'hrld_AbCd',
  created_at: '2026-11-01T08:00:00Z',
  last_used_at: '2026-11-20T08:00:00Z',
  expires_at: null,
  revoked_at: null,
};

describe('Tokens', () => {
  let fixture: ComponentFixture<Tokens>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Tokens, async (backend) => {
      const signingIn = TestBed.inject(Auth).session();
      (await nextRequest(backend, '/api/auth/csrf')).flush({
        csrf_token: 'tok',
        user: { id: 1, email: 'ada@example.com', name: 'Ada', role: 'admin' },
      });
      expect(await signingIn).toMatchObject({ id: 1, role: 'admin' });
    }));
    const first = await nextRequest(http, isListing);
    expect(paramsOf(first)).toEqual({ status: 'active' });
    first.flush({ results: [exporter] });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  it('lists tokens with owner, scopes and last use, never a secret', async () => {
    const [row] = await (await loader.getHarness(MatTableHarness)).getRows();
    const cells = await row.getCellTextByColumnName();
    expect(cells['token']).toContain('exporter');
    expect(cells['token']).toContain('hrld_AbCd…');
    expect(cells['user_id']).toBe('#5');
    expect(cells['scopes']).toContain('notifications:read');
    expect(cells['last_used_at']).toContain('20 Nov 2026');
    expect(cells['expires_at']).toBe('Never');
  });

  it('revokes a token after confirmation and drops it from the active list', async () => {
    await (await loader.getHarness(MatButtonHarness.with({ text: /Revoke exporter/ }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getContentText()).toContain('“exporter” (hrld_AbCd…) of user 5');
    const confirmed = (await dialog.getHarness(MatButtonHarness.with({ text: 'Revoke' }))).click();
    const del = await nextRequest(http, '/api/admin/tokens/7');
    expect(del.request.method).toBe('DELETE');
    del.flush({ ...exporter, revoked_at: '2026-11-29T10:00:00Z' });
    await confirmed;
    await settle(fixture);
    expect(await (await loader.getHarness(MatTableHarness)).getRows()).toHaveLength(0);
  });

  it('shows revoked and expired tokens on request', async () => {
    const toggled = (await loader.getHarness(MatSlideToggleHarness)).toggle();
    const all = await nextRequest(http, isListing);
    expect(paramsOf(all)).toEqual({ status: 'all' });
    all.flush({ results: [{ ...exporter, revoked_at: '2026-11-29T10:00:00Z' }] });
    await toggled;
    await settle(fixture);
    const [row] = await (await loader.getHarness(MatTableHarness)).getRows();
    expect((await row.getCellTextByColumnName())['expires_at']).toContain('Revoked 29 Nov 2026');
  });
});
