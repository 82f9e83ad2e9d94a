import {
  provideHttpClient,
  withFetch,
  withInterceptors,
  withXsrfConfiguration,
} from '@angular/common/http';
import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideNativeDateAdapter } from '@angular/material/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { routes } from './app.routes';
import { errorInterceptor } from './core/error-interceptor';

// No zone.js and no provideZoneChangeDetection: Angular 21 is zoneless by default and every
// component is OnPush over signals.
export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes, withComponentInputBinding()),
    provideHttp(),
    provideNativeDateAdapter(),
  ],
};

/** Shared with the specs, so they exercise the same XSRF and error handling as the app. */
export function provideHttp() {
  return provideHttpClient(
    withFetch(),
    // The server's double-submit cookie; HttpClient echoes it on POST/PATCH/DELETE.
    withXsrfConfiguration({ cookieName: 'XSRF-TOKEN', headerName: 'X-XSRF-TOKEN' }),
    withInterceptors([errorInterceptor]),
  );
}
