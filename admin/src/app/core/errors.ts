import { HttpContext, HttpContextToken, HttpErrorResponse } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { MatSnackBar } from '@angular/material/snack-bar';
import { ApiErrorBody } from './api.types';

/**
 * Marks a request whose failure the caller reports itself (a login form, the session probe),
 * so the global snackbar does not say the same thing twice.
 */
export const QUIET_ERRORS = new HttpContextToken<boolean>(() => false);
export const quiet = () => new HttpContext().set(QUIET_ERRORS, true);

/** The server's own message when there is one, else something a person can act on. */
export function errorMessage(err: unknown): string {
  if (err instanceof HttpErrorResponse) {
    const body = err.error as Partial<ApiErrorBody> | null;
    if (body && typeof body === 'object' && body.error?.message) return body.error.message;
    if (err.status === 0) return 'Cannot reach the server. Check your connection and try again.';
    return `The server answered ${err.status} ${err.statusText || ''}`.trim() + '.';
  }
  // httpResource wraps failures; the HttpErrorResponse is its cause.
  if (err instanceof Error && err.cause) return errorMessage(err.cause);
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export function errorCode(err: unknown): string | undefined {
  if (err instanceof HttpErrorResponse) {
    return (err.error as Partial<ApiErrorBody> | null)?.error?.code;
  }
  return undefined;
}

/** One place that shows messages, so every screen sounds the same. */
@Injectable({ providedIn: 'root' })
export class Notifier {
  private readonly snackBar = inject(MatSnackBar);

  error(err: unknown): void {
    this.snackBar.open(errorMessage(err), 'Dismiss', {
      duration: 8000,
      panelClass: 'herald-snack-error',
      politeness: 'assertive',
    });
  }

  info(message: string): void {
    this.snackBar.open(message, 'OK', { duration: 4000 });
  }
}
