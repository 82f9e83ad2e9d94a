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

  afterEach(() => {
    http.verify();
    document.cookie = 'XSRF-TOKEN=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });

  /** The server sets XSRF-TOKEN along with any session that has a user. */
  const withSessionCookie = () => (document.cookie = 'XSRF-TOKEN=tok; path=/');

  async function navigateSignedIn(url: string): Promise<void> {
    withSessionCookie();
    const navigating = router.navigateByUrl(url);
    (await nextRequest(http, '/api/auth/me')).flush({
      user: { id: 1, email: 'ada@example.com', name: 'Ada Admin', role: 'admin' },
    });
    await navigating;
  }

  it('sends a visitor without a session to the login page, remembering the way back', async () => {
    await router.navigateByUrl('/notifications?type=message');
    // No session cookie: asking /api/auth/me would only get a 401, logged in the browser console.
    http.expectNone('/api/auth/me');
    expect(router.url).toBe('/login?returnUrl=%2Fnotifications%3Ftype%3Dmessage');
    expect(sockets).toHaveLength(0);
  });

  it('sends a visitor whose session expired to the login page', async () => {
    withSessionCookie();
    const navigating = router.navigateByUrl('/notifications?type=message');
    (await nextRequest(http, '/api/auth/me')).flush(
      { error: { code: 'unauthenticated', message: 'Not signed in', details: null } },
      { status: 401, statusText: 'Unauthorized' },
    );
    await navigating;
    expect(router.url).toBe('/login?returnUrl=%2Fnotifications%3Ftype%3Dmessage');
    expect(sockets).toHaveLength(0);
  });

  it('keeps a signed-in candidate out with an explanation', async () => {
    withSessionCookie();
    const navigating = router.navigateByUrl('/dashboard');
    (await nextRequest(http, '/api/auth/me')).flush({
      user: { id: 3, email: 'cand@example.com', name: 'Cand', role: 'candidate' },
    });
    await navigating;
    await settle(fixture);
    expect(router.url).toMatch(/^\/login/);
    expect((fixture.nativeElement as HTMLElement).textContent).toContain(
      'This console is for administrators',
    );
  });

  it('shows the navigation and the admin’s name, and opens the live socket', async () => {
    await navigateSignedIn('/users');
    // The users screen asks for its list once it loads.
    (await nextRequest(http, (req) => req.url === '/api/admin/users')).flush({
      results: [],
      total: 0,
      page: 1,
      page_size: 25,
    });
    await settle(fixture);

    const links = Array.from(
      (fixture.nativeElement as HTMLElement).querySelectorAll('nav[aria-label=Main] a'),
    );
    expect(links.map((a) => a.querySelector('.nav-label')?.textContent?.trim())).toEqual([
      'Dashboard',
      'Notifications',
      'Compose',
      'Applications',
      'Users',
    ]);
    expect(links[4].getAttribute('aria-current')).toBe('page');
    expect(await (await loader.getHarness(MatMenuHarness)).getTriggerText()).toContain('Ada Admin');
    expect(sockets[0].url).toMatch(/\/ws\/notifications$/);
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
    await navigateSignedIn('/users');
    (await nextRequest(http, (req) => req.url === '/api/admin/users')).flush({
      results: [],
      total: 0,
      page: 1,
      page_size: 25,
    });
    await settle(fixture);

    const menu = await loader.getHarness(MatMenuHarness);
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
