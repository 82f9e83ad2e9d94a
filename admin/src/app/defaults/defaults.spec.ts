import { HarnessLoader } from '@angular/cdk/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture } from '@angular/core/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatSlideToggleHarness } from '@angular/material/slide-toggle/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { nextRequest, settle, setupScreen } from '../../testing/helpers';
import { PreferenceDefaults } from '../core/api.types';
import { Defaults } from './defaults';

const URL = '/api/admin/preferences/defaults';

const initial: PreferenceDefaults = {
  types: {
    application_approved: { in_app: true, email: 'off', push: false },
    announcement: { in_app: true, email: 'off', push: false },
    message: { in_app: true, email: 'unread', push: false },
  },
  locked: { application_approved: ['in_app'] },
};

describe('Defaults', () => {
  let fixture: ComponentFixture<Defaults>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Defaults));
    (await nextRequest(http, URL)).flush(initial);
    await settle(fixture);
  });

  afterEach(() => http.verify());

  // The toggle's aria-label sits on its inner switch, not on the host a selector would match.
  const labelled = (label: string) =>
    loader.getHarness(MatSlideToggleHarness.with().add(label, async (h) => (await h.getAriaLabel()) === label));
  const inApp = (type: string) => labelled(`In the app, ${type}`);
  const push = (type: string) => labelled(`Push, ${type}`);
  const email = (type: string) => loader.getHarness(MatSelectHarness.with({ selector: `[aria-label="Email, ${type}"]` }));

  it('shows every type with its channels; a locked in-app is disabled and says so', async () => {
    const rows = await (await loader.getHarness(MatTableHarness)).getRows();
    const cells = await Promise.all(rows.map((r) => r.getCellTextByColumnName()));
    // In the console's order of types; the icon's ligature is part of the cell's text.
    expect(cells.map((c) => c['type'].replace(/^\S+\s+/, ''))).toEqual(['Application approved', 'Message', 'Announcement']);
    expect(cells[0]['in_app']).toContain('Locked');
    expect(await (await inApp('Application approved')).isDisabled()).toBe(true);
    expect(await (await inApp('Application approved')).isChecked()).toBe(true);
    expect(await (await inApp('Announcement')).isDisabled()).toBe(false);
    expect(await (await email('Message')).getValueText()).toBe('If still unread');
  });

  it('saves one channel at once and shows what the server kept', async () => {
    const toggled = (await push('Announcement')).toggle();
    const patch = await nextRequest(http, URL);
    expect(patch.request.method).toBe('PATCH');
    expect(patch.request.body).toEqual({ types: { announcement: { push: true } } });
    patch.flush({ ...initial, types: { ...initial.types, announcement: { in_app: true, email: 'off', push: true } } });
    await toggled;
    await settle(fixture);
    expect(await (await push('Announcement')).isChecked()).toBe(true);

    const picked = (await email('Announcement')).clickOptions({ text: 'Daily digest' });
    const second = await nextRequest(http, URL);
    expect(second.request.body).toEqual({ types: { announcement: { email: 'digest' } } });
    second.flush({ ...initial, types: { ...initial.types, announcement: { in_app: true, email: 'digest', push: true } } });
    await picked;
    await settle(fixture);
    expect(await (await email('Announcement')).getValueText()).toBe('Daily digest');
  });

  it('a refused change goes back to what is saved, with the server’s reason', async () => {
    const toggled = (await inApp('Message')).toggle();
    const patch = await nextRequest(http, URL);
    expect(patch.request.body).toEqual({ types: { message: { in_app: false } } });
    patch.flush(
      {
        error: {
          code: 'validation_error',
          message: 'types.message.in_app: email "unread" needs in_app on',
          details: [{ field: 'types.message.in_app', message: 'email "unread" needs in_app on' }],
        },
      },
      { status: 400, statusText: 'Bad Request' },
    );
    await toggled;
    await settle(fixture);
    expect(await (await inApp('Message')).isChecked()).toBe(true);
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toContain('needs in_app on');
  });
});
