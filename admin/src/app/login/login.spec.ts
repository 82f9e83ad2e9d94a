import { HttpTestingController } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { Router } from '@angular/router';
import { nextRequest, provideTestApp, settle } from '../../testing/helpers';
import { Auth } from '../core/auth';
import { Login } from './login';

@Component({ template: 'dashboard' })
class Stub {}

describe('Login', () => {
  let fixture: ComponentFixture<Login>;
  let loader: HarnessLoader;
  let http: HttpTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: provideTestApp([
        { path: 'dashboard', component: Stub },
        { path: 'users', component: Stub },
      ]),
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(Login);
    loader = TestbedHarnessEnvironment.loader(fixture);
    await fixture.whenStable();
  });

  afterEach(() => {
    http.verify();
    document.cookie = 'XSRF-TOKEN=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });

  async function fillAndSubmit(email: string, password: string): Promise<Promise<void>> {
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=email]' }))).setValue(email);
    await (await loader.getHarness(MatInputHarness.with({ selector: '[formControlName=password]' }))).setValue(password);
    const button = await loader.getHarness(MatButtonHarness.with({ text: 'Sign in' }));
    return button.click();
  }

  const text = () => (fixture.nativeElement as HTMLElement).textContent ?? '';

  it('refuses a non-admin and signs them out again', async () => {
    const navigate = vi.spyOn(TestBed.inject(Router), 'navigateByUrl');
    const clicked = await fillAndSubmit('cand@example.com', 'secret');

    (await nextRequest(http, '/api/auth/csrf')).flush({ csrf_token: 'anon', user: null });
    const login = await nextRequest(http, '/api/auth/login');
    expect(login.request.body).toEqual({ email: 'cand@example.com', password: 'secret' });
    login.flush({
      user: { id: 3, email: 'cand@example.com', name: 'Cand', role: 'candidate' },
      csrf_token: 'fresh',
    });
    const logout = await nextRequest(http, '/api/auth/logout');
    expect(logout.request.method).toBe('POST');
    logout.flush(null, { status: 204, statusText: 'No Content' });
    await clicked;
    await settle(fixture);

    expect(text()).toContain('cand@example.com is a candidate account');
    expect(text()).toContain('Only administrators');
    expect(TestBed.inject(Auth).user()).toBeNull();
    expect(navigate).not.toHaveBeenCalled();
  });

  it('signs an admin in, echoing the XSRF cookie, and goes to the return URL', async () => {
    fixture.componentRef.setInput('returnUrl', '/users');
    const clicked = await fillAndSubmit('admin@example.com', 'pw');

    document.cookie = 'XSRF-TOKEN=tok123; path=/';
    (await nextRequest(http, '/api/auth/csrf')).flush({ csrf_token: 'tok123', user: null });
    const login = await nextRequest(http, '/api/auth/login');
    expect(login.request.headers.get('X-XSRF-TOKEN')).toBe('tok123');
    login.flush({
      user: { id: 1, email: 'admin@example.com', name: 'Ada', role: 'admin' },
      csrf_token: 'tok456',
    });
    await clicked;
    await settle(fixture);

    expect(TestBed.inject(Auth).user()?.name).toBe('Ada');
    expect(TestBed.inject(Router).url).toBe('/users');
  });

  it('says so when the credentials are wrong', async () => {
    const clicked = await fillAndSubmit('admin@example.com', 'nope');
    (await nextRequest(http, '/api/auth/csrf')).flush({ csrf_token: 'anon', user: null });
    (await nextRequest(http, '/api/auth/login')).flush(
      { error: { code: 'invalid_credentials', message: 'Invalid email or password', details: null } },
      { status: 401, statusText: 'Unauthorized' },
    );
    await clicked;
    await settle(fixture);

    expect(text()).toContain('Wrong email or password.');
  });

  it('does not send an invalid form', async () => {
    const clicked = await fillAndSubmit('not-an-email', '');
    await clicked;
    expect(text()).toContain('Enter a valid email address.');
    http.expectNone('/api/auth/csrf');
  });
});
