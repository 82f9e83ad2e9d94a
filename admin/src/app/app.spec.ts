import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { HttpTestingController } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatMenuHarness } from '@angular/material/menu/testing';
import { Router } from '@angular/router';
import { nextRequest, provideTestApp, settle } from '../testing/helpers';
import { App } from './app';
import { routes } from './app.routes';
import { SessionUser } from './core/api.types';
import { WEB_SOCKET_FACTORY } from './core/live';

describe('App shell', () => {
  let fixture: ComponentFixture<App>;
  let loader: HarnessLoader;
  let http: HttpTestingController;
  let router: Router;
  const sockets: { url: string; close: () => void }[] = [];

  beforeEach(() => {
    sockets.length = 0;
    localStorage.clear();
    document.documentElement.className = '';
    TestBed.configureTestingModule({
      providers: [
        provideTestApp(routes),
        {
          provide: WEB_SOCKET_FACTORY,
          useValue: (url: string) => {
            const socket = { url, close: vi.fn() };
            sockets.push(socket);
            return socket;
          },
        },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    router = TestBed.inject(Router);
    fixture = TestBed.createComponent(App);
    loader = TestbedHarnessEnvironment.loader(fixture);
  });

  afterEach(() => http.verify());

  /** The session probe: `/api/auth/csrf` answers for signed-in and anonymous sessions alike. */
  async function answerProbe(user: SessionUser | null): Promise<void> {
    const probe = await nextRequest(http, '/api/auth/csrf');
    expect(probe.request.method).toBe('GET');
    probe.flush({ csrf_token: 'tok', user });
  }

  async function navigateSignedIn(url: string): Promise<void> {
    const navigating = router.navigateByUrl(url);
    await answerProbe({ id: 1, email: 'ada@example.com', name: 'Ada Admin', role: 'admin' });
    await navigating;
  }

  /** Signed in, on the users screen, whose list (asked for once it loads) is empty. */
  async function onEmptyUsers(): Promise<void> {
    await navigateSignedIn('/users');
    (await nextRequest(http, (req) => req.url === '/api/admin/users')).flush({ results: [], total: 0, page: 1, page_size: 25 });
    await settle(fixture);
  }

  it('sends a visitor without a session to the login page, remembering the way back', async () => {
    const navigating = router.navigateByUrl('/notifications?type=message');
    await answerProbe(null);
    await navigating;
    // Asked once for both guards (the app route and /login), and never /api/auth/me, whose 401 the
    // browser would log as a console error.
    http.expectNone('/api/auth/csrf');
    http.expectNone('/api/auth/me');
    expect(router.url).toBe('/login?returnUrl=%2Fnotifications%3Ftype%3Dmessage');
    expect(sockets).toHaveLength(0);
  });

  it('says why when the server cannot answer the probe, and asks again next time', async () => {
    const navigating = router.navigateByUrl('/notifications');
    (await nextRequest(http, '/api/auth/csrf')).flush(
      { error: { code: 'internal', message: 'Server unavailable', details: null } },
      { status: 503, statusText: 'Service Unavailable' },
    );
    // A failed probe is not remembered: the login page's guard asks again.
    await answerProbe(null);
    await navigating;
    await settle(fixture);
    expect(router.url).toBe('/login?returnUrl=%2Fnotifications');
    expect((fixture.nativeElement as HTMLElement).textContent).toContain('Server unavailable');
  });

  it('keeps a signed-in candidate out with an explanation', async () => {
    const navigating = router.navigateByUrl('/dashboard');
    await answerProbe({ id: 3, email: 'cand@example.com', name: 'Cand', role: 'candidate' });
    await navigating;
    await settle(fixture);
    expect(router.url).toMatch(/^\/login/);
    expect((fixture.nativeElement as HTMLElement).textContent).toContain(
      'This console is for administrators',
    );
  });

  it('shows the navigation and the admin’s name, and opens the live socket', async () => {
    await onEmptyUsers();

    const links = Array.from(
      (fixture.nativeElement as HTMLElement).querySelectorAll('nav[aria-label=Main] a'),
    );
    expect(links.map((a) => a.querySelector('.nav-label')?.textContent?.trim())).toEqual([
      'Dashboard',
      'Notifications',
      'Compose',
      'Applications',
      'Users',
      'Deliveries',
      'Defaults',
      'Tokens',
      'Webhooks',
    ]);
    expect(links[4].getAttribute('aria-current')).toBe('page');
    expect(await (await loader.getHarness(MatMenuHarness.with({ selector: '.user' }))).getTriggerText()).toContain('Ada Admin');
    expect(sockets[0].url).toMatch(/\/ws\/notifications$/);
  });

  it('offers every destination in the Menu button’s menu too (the nav a phone sees), the current one marked', async () => {
    await onEmptyUsers();

    const menu = await loader.getHarness(MatMenuHarness.with({ selector: '.nav-menu-button' }));
    await menu.open();
    const items = await menu.getItems();
    expect(await Promise.all(items.map((i) => i.getText()))).toEqual([
      'dashboardDashboard',
      'notificationsNotifications',
      'edit_notificationsCompose',
      'assignment_indApplications',
      'groupUsers',
      'outgoing_mailDeliveries',
      'tuneDefaults',
      'keyTokens',
      'webhookWebhooks',
    ]);
    const current = document.querySelector('.mat-mdc-menu-panel a[aria-current=page]');
    expect(current?.textContent).toContain('Users');
    await menu.close();
  });

  it('toggles between light and dark and remembers the choice', async () => {
    const toggle = await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label^="Switch to"]' }));
    // jsdom reports no dark preference, so the first press forces dark.
    await toggle.click();
    expect(document.documentElement.classList).toContain('theme-dark');
    expect(localStorage.getItem('herald-admin-theme')).toBe('dark');
    await toggle.click();
    // Back to what the system prefers: the override is dropped rather than pinned to light.
    expect(document.documentElement.classList).not.toContain('theme-dark');
    expect(document.documentElement.classList).not.toContain('theme-light');
    expect(localStorage.getItem('herald-admin-theme')).toBeNull();
  });

  it('signs out through the user menu', async () => {
    await onEmptyUsers();

    const menu = await loader.getHarness(MatMenuHarness.with({ selector: '.user' }));
    await menu.open();
    const clicking = menu.clickItem({ text: /Sign out/ });
    const logout = await nextRequest(http, '/api/auth/logout');
    expect(logout.request.method).toBe('POST');
    logout.flush(null, { status: 204, statusText: 'No Content' });
    await clicking;
    await settle(fixture);

    expect(router.url).toBe('/login');
    expect(sockets[0].close).toHaveBeenCalled();
  });
});
