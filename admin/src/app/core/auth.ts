import { HttpClient } from '@angular/common/http';
import { computed, inject, Injectable, signal } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { CsrfAnswer, SessionUser } from './api.types';
import { errorMessage, quiet } from './errors';

/** Thrown by {@link Auth.login} when the credentials are right but the account is not an admin. */
export class NotAdminError extends Error {
  constructor(readonly user: SessionUser) {
    super(
      `${user.email} is a ${user.role} account. Only administrators can use Herald admin, ` +
        'so you have been signed out.',
    );
  }
}

/**
 * The cookie session as the console sees it. `user` only ever holds an admin: a session of any
 * other role counts as signed out here.
 */
@Injectable({ providedIn: 'root' })
export class Auth {
  private readonly http = inject(HttpClient);
  private readonly router = inject(Router);

  private readonly current = signal<SessionUser | null>(null);
  readonly user = this.current.asReadonly();
  readonly signedIn = computed(() => this.current() !== null);

  /** Why the login page is showing, when it was not the user's own choice. */
  readonly notice = signal<string | null>(null);

  private probe?: Promise<SessionUser | null>;

  /**
   * Asks the server once who we are. `/api/auth/csrf` answers for any session, signed in or not, so a
   * first visit never gets a 401 (which the browser would log as a console error); it also sets the
   * XSRF-TOKEN cookie that the login form needs next.
   */
  session(): Promise<SessionUser | null> {
    this.probe ??= firstValueFrom(
      this.http.get<CsrfAnswer>('/api/auth/csrf', { context: quiet() }),
    ).then(
      ({ user }) => {
        if (user === null) return null;
        if (user.role !== 'admin') {
          // Not logged out here: a candidate who follows a link to /admin keeps their course
          // session; signing in below with an admin account replaces it.
          this.notice.set(
            `You are signed in as ${user.email} (${user.role}). ` +
              'This console is for administrators: sign in with an admin account.',
          );
          return null;
        }
        this.current.set(user);
        return user;
      },
      (err: unknown) => {
        this.notice.set(errorMessage(err));
        // A server that is down now may be up on the next navigation.
        this.probe = undefined;
        return null;
      },
    );
    return this.probe;
  }

  async login(email: string, password: string): Promise<SessionUser> {
    // Starts an anonymous session and sets the XSRF-TOKEN cookie that HttpClient echoes back.
    await firstValueFrom(this.http.get('/api/auth/csrf', { context: quiet() }));
    const { user } = await firstValueFrom(
      this.http.post<{ user: SessionUser; csrf_token: string }>(
        '/api/auth/login',
        { email, password },
        { context: quiet() },
      ),
    );
    if (user.role !== 'admin') {
      await firstValueFrom(this.http.post('/api/auth/logout', null, { context: quiet() })).catch(
        () => undefined,
      );
      throw new NotAdminError(user);
    }
    this.notice.set(null);
    this.setUser(user);
    return user;
  }

  async logout(): Promise<void> {
    try {
      await firstValueFrom(this.http.post('/api/auth/logout', null));
    } finally {
      this.setUser(null);
      await this.router.navigateByUrl('/login');
    }
  }

  /** The server no longer knows us (401 or WebSocket close 4401). */
  sessionLost(): void {
    if (!this.current()) return;
    this.setUser(null);
    this.notice.set('Your session has ended. Please sign in again.');
    const returnUrl = this.router.url;
    void this.router.navigate(['/login'], {
      queryParams: returnUrl.startsWith('/login') ? {} : { returnUrl },
    });
  }

  private setUser(user: SessionUser | null): void {
    this.current.set(user);
    this.probe = Promise.resolve(user);
  }
}

/** Lets only admins past; everyone else goes to the login page, remembering where they were going. */
export const adminGuard: CanActivateFn = async (_route, state) => {
  const router = inject(Router);
  const user = await inject(Auth).session();
  return user ? true : router.createUrlTree(['/login'], { queryParams: { returnUrl: state.url } });
};

/** An admin who opens /login is already where they want to be. */
export const signedOutGuard: CanActivateFn = async () => {
  const router = inject(Router);
  const user = await inject(Auth).session();
  return user ? router.createUrlTree(['/dashboard']) : true;
};
