import { HarnessLoader } from '@angular/cdk/testing';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture } from '@angular/core/testing';
import { MatAutocompleteHarness } from '@angular/material/autocomplete/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatButtonToggleGroupHarness } from '@angular/material/button-toggle/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatFormFieldHarness } from '@angular/material/form-field/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { nextRequest, settle, setupScreen } from '../../testing/helpers';
import { Compose } from './compose';

describe('Compose', () => {
  let fixture: ComponentFixture<Compose>;
  let loader: HarnessLoader;
  let root: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    ({ fixture, loader, root, http } = await setupScreen(Compose));
    (await nextRequest(http, '/api/courses/')).flush({
      results: [
        { id: 4, title: 'Databases', description: '', instructor: null, enrolled_count: 12 },
      ],
    });
    await settle(fixture);
  });

  afterEach(() => http.verify());

  const input = (name: string) =>
    loader.getHarness(MatInputHarness.with({ selector: `[formControlName=${name}]` }));

  async function chooseAudience(label: string): Promise<void> {
    const group = await loader.getHarness(MatButtonToggleGroupHarness);
    const [toggle] = await group.getToggles({ text: new RegExp(label) });
    await toggle.check();
  }

  it('shows the live preview as a bell item', async () => {
    await (await input('title')).setValue('Exam moved');
    await (await input('message')).setValue('The exam is now on Friday.');
    const preview = (fixture.nativeElement as HTMLElement).querySelector('.bell-item')!;
    expect(preview.textContent).toContain('Exam moved');
    expect(preview.textContent).toContain('The exam is now on Friday.');
    expect(preview.querySelector('herald-type-icon')?.getAttribute('class')).toContain(
      'type-announcement',
    );
  });

  it('offers only the types a person may send (the server refuses the others)', async () => {
    const type = await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=type]' }));
    await type.open();
    const labels = (await type.getOptions()).map((o) => o.getText());
    expect((await Promise.all(labels)).map((l) => l.replace(/^\S+\s+/, '').trim())).toEqual([
      'Announcement',
      'Course update',
      'Session starting',
      'Exam result',
      'Message',
    ]);
    await type.close();
  });

  it('asks for the recipient count, confirms it, then sends', async () => {
    await chooseAudience('A role');
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=role]' }))).clickOptions({ text: 'instructors' });
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=type]' }))).clickOptions({ text: /Course update/ });
    await (await input('title')).setValue('New syllabus');
    await (await input('message')).setValue('Please read it.');

    const sending = (await loader.getHarness(MatButtonHarness.with({ text: /Send to every instructor/ }))).click();
    const count = await nextRequest(http, '/api/admin/audience/count');
    expect(count.request.body).toEqual({ audience: { kind: 'role', role: 'instructor' } });
    count.flush({ count: 42 });
    await settle(fixture);

    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getContentText()).toContain('42 people will receive this.');
    const confirmed = (await dialog.getHarness(MatButtonHarness.with({ text: 'Send' }))).click();

    const send = await nextRequest(http, '/api/admin/notifications/send');
    expect(send.request.body).toEqual({
      audience: { kind: 'role', role: 'instructor' },
      notification_type: 'course_update',
      title: 'New syllabus',
      message: 'Please read it.',
    });
    send.flush({ recipients: 42 });
    await confirmed;
    await sending;
    await settle(fixture);

    expect((fixture.nativeElement as HTMLElement).querySelector('.result')?.textContent).toContain(
      'was sent to 42 people',
    );
  });

  it('resets cleanly after a successful send: empty title and message, no red "required", audience kept', async () => {
    await chooseAudience('A role');
    await (await input('title')).setValue('New syllabus');
    await (await input('message')).setValue('Please read it.');
    const sending = (await loader.getHarness(MatButtonHarness.with({ text: /Send to every candidate/ }))).click();
    (await nextRequest(http, '/api/admin/audience/count')).flush({ count: 3 });
    await settle(fixture);
    const confirmed = (await (await root.getHarness(MatDialogHarness)).getHarness(MatButtonHarness.with({ text: 'Send' }))).click();
    (await nextRequest(http, '/api/admin/notifications/send')).flush({ recipients: 3 });
    await confirmed;
    await sending;
    await settle(fixture);

    for (const label of ['Title', 'Message']) {
      const field = await loader.getHarness(MatFormFieldHarness.with({ floatingLabelText: label }));
      expect(await field.hasErrors()).toBe(false);
      expect(await (await input(label.toLowerCase())).getValue()).toBe('');
    }
    expect((fixture.nativeElement as HTMLElement).querySelectorAll('mat-error').length).toBe(0);
    expect((fixture.nativeElement as HTMLElement).querySelector('.result')?.textContent).toContain('was sent to 3 people');
    const [role] = await (await loader.getHarness(MatButtonToggleGroupHarness)).getToggles({ checked: true });
    expect(await role.getText()).toContain('A role');
  });

  it('a large send (202) shows its progress from the status URL until it finished', async () => {
    await chooseAudience('A role');
    await (await input('title')).setValue('To everyone');
    await (await input('message')).setValue('Big news.');
    const sending = (await loader.getHarness(MatButtonHarness.with({ text: /Send to every candidate/ }))).click();
    (await nextRequest(http, '/api/admin/audience/count')).flush({ count: 20000 });
    await settle(fixture);
    const confirmed = (await (await root.getHarness(MatDialogHarness)).getHarness(MatButtonHarness.with({ text: 'Send' }))).click();
    const id = '0b9d2f4e-3c1a-4a57-9f43-5b6f3f0c2a11';
    const send = {
      id, status: 'queued', title: 'To everyone', recipients: 0, total: null, created_at: '2026-11-29T12:00:00.000Z',
      started_at: null, finished_at: null, status_url: `/api/sends/${id}`,
    };
    (await nextRequest(http, '/api/admin/notifications/send')).flush(send, { status: 202, statusText: 'Accepted' });
    await confirmed;
    await sending;
    await settle(fixture);
    const text = () => (fixture.nativeElement as HTMLElement).querySelector('.result')?.textContent ?? '';
    expect(text()).toContain('is going out in parts: 0 of 20000 people so far');

    (await nextRequest(http, `/api/sends/${id}`)).flush({ ...send, status: 'running', recipients: 8000, total: 20000 });
    await settle(fixture);
    expect(text()).toContain('8000 of 20000 people so far');
    (await nextRequest(http, `/api/sends/${id}`)).flush({ ...send, status: 'finished', recipients: 20000, total: 20000 });
    await settle(fixture);
    expect(text()).toContain('was sent to 20000 people');
  });

  it('sends nothing when the confirmation is cancelled', async () => {
    await chooseAudience('A course');
    await (await loader.getHarness(MatSelectHarness.with({ selector: '[formControlName=courseId]' }))).clickOptions({ text: /Databases/ });
    await (await input('title')).setValue('Room change');
    await (await input('message')).setValue('Room 4.');

    const sending = (await loader.getHarness(MatButtonHarness.with({ text: /Send to everyone in Databases/ }))).click();
    const count = await nextRequest(http, '/api/admin/audience/count');
    expect(count.request.body).toEqual({ audience: { kind: 'course', course_id: 4 } });
    count.flush({ count: 1 });
    await settle(fixture);

    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getContentText()).toContain('1 person will receive this.');
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Cancel' }))).click();
    await sending;
    http.expectNone('/api/admin/notifications/send');
  });

  it('finds a single user by name and targets their id', async () => {
    await chooseAudience('One user');
    const search = await input('userSearch');
    const typing = search.setValue('ad');
    const found = await nextRequest(http, (req) => req.url === '/api/admin/users');
    expect(found.request.params.get('q')).toBe('ad');
    found.flush({
      results: [
        { id: 9, email: 'ada@example.com', name: 'Ada', role: 'candidate', is_active: true, last_login_at: null, created_at: '' },
      ],
      total: 1,
      page: 1,
      page_size: 10,
    });
    await typing;
    await settle(fixture);
    const auto = await loader.getHarness(MatAutocompleteHarness);
    // The panel shows its options a macrotask after they render.
    for (let i = 0; i < 50 && !(await auto.isOpen()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await auto.selectOption({ text: /Ada/ });
    await (await input('title')).setValue('Hi');
    await (await input('message')).setValue('Hello.');

    const sending = (await loader.getHarness(MatButtonHarness.with({ text: /Send to Ada/ }))).click();
    const count = await nextRequest(http, '/api/admin/audience/count');
    expect(count.request.body).toEqual({ audience: { kind: 'user', user_id: 9 } });
    count.flush({ count: 1 });
    await settle(fixture);
    await (await (await root.getHarness(MatDialogHarness)).getHarness(MatButtonHarness.with({ text: 'Cancel' }))).click();
    await sending;
  });
});
