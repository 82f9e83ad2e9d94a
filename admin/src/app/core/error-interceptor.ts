import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject, Injector } from '@angular/core';
import { catchError, throwError } from 'rxjs';
import { Auth } from './auth';
import { Notifier, QUIET_ERRORS } from './errors';

/**
 * Shows every API failure in a snackbar with the server's message.
 * A 401 outside /api/auth/ means the session ended elsewhere (logout in another tab, an admin
 * deactivated us): the user goes back to the login page instead of seeing a raw error.
 */
export const errorInterceptor: HttpInterceptorFn = (req, next) => {
  // Resolved lazily: Auth needs HttpClient, which needs this interceptor.
  const injector = inject(Injector);
  return next(req).pipe(
    catchError((err: unknown) => {
      if (err instanceof HttpErrorResponse && !req.context.get(QUIET_ERRORS)) {
        if (err.status === 401 && !req.url.startsWith('/api/auth/')) {
          injector.get(Auth).sessionLost();
        } else {
          injector.get(Notifier).error(err);
        }
      }
      return throwError(() => err);
    }),
  );
};
