import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClientTesting, HttpTestingController, TestRequest } from '@angular/common/http/testing';
import { HttpRequest } from '@angular/common/http';
import { EnvironmentProviders, Provider, Type } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MATERIAL_ANIMATIONS, provideNativeDateAdapter } from '@angular/material/core';
import { provideRouter, Routes } from '@angular/router';
import { provideHttp } from '../app/app.config';
import { WEB_SOCKET_FACTORY } from '../app/core/live';

/**
 * What every component spec needs: the app's real HTTP stack over HttpTestingController,
 * Material without animations, and no real WebSocket.
 */
export function provideTestApp(routes: Routes = []): (Provider | EnvironmentProviders)[] {
  return [
    provideHttp(),
    provideHttpClientTesting(),
    provideRouter(routes),
    provideNativeDateAdapter(),
    { provide: MATERIAL_ANIMATIONS, useValue: { animationsDisabled: true } },
    {
      provide: WEB_SOCKET_FACTORY,
      useValue: () => {
        throw new Error('No WebSocket in component specs');
      },
    },
  ];
}

/** What a screen spec works with, from {@link setupScreen}. */
export interface ScreenTest<T> {
  fixture: ComponentFixture<T>;
  /** Harnesses inside the component. */
  loader: HarnessLoader;
  /** Harnesses anywhere in the document: dialogs, snackbars, select panels. */
  root: HarnessLoader;
  http: HttpTestingController;
}

/**
 * The TestBed of a screen spec: {@link provideTestApp}, then the component and its harness loaders.
 * `beforeCreate` runs first, for state the screen reads as it starts (a signed-in admin).
 * Specs still call `http.verify()` after each test.
 */
export async function setupScreen<T>(
  component: Type<T>,
  beforeCreate?: (http: HttpTestingController) => Promise<void>,
): Promise<ScreenTest<T>> {
  TestBed.configureTestingModule({ providers: provideTestApp() });
  const http = TestBed.inject(HttpTestingController);
  await beforeCreate?.(http);
  const fixture = TestBed.createComponent(component);
  return {
    fixture,
    loader: TestbedHarnessEnvironment.loader(fixture),
    root: TestbedHarnessEnvironment.documentRootLoader(fixture),
    http,
  };
}

/**
 * Waits for a request to be sent. Harness actions wait for the app to be stable, and an open
 * request keeps it unstable, so specs start the action, answer the request here, then await it.
 */
export async function nextRequest(
  http: HttpTestingController,
  match: string | ((req: HttpRequest<unknown>) => boolean),
  timeoutMs = 2000,
): Promise<TestRequest> {
  const matcher =
    typeof match === 'string' ? (req: HttpRequest<unknown>) => req.url === match : match;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = http.match(matcher);
    if (found.length > 1) throw new Error(`${found.length} requests matched ${String(match)}`);
    if (found.length === 1) return found[0];
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`No request matched ${String(match)} within ${timeoutMs} ms`);
}

/** The query string of a request as a plain object, for readable assertions. */
export function paramsOf(req: TestRequest): Record<string, string> {
  const params = req.request.params;
  return Object.fromEntries(params.keys().map((key) => [key, params.get(key) ?? '']));
}

/**
 * Lets pending promise chains run out (async handlers that await several requests), then waits
 * for change detection. whenStable alone can resolve between two awaits of such a handler.
 */
export async function settle(fixture: { whenStable(): Promise<unknown> }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve));
  await fixture.whenStable();
}

/**
 * The newest of the matching requests once they stop coming. Debounced filters may send more
 * than one on a slow machine; the older ones are answered empty so nothing stays open.
 */
export async function latestRequest(
  http: HttpTestingController,
  match: (req: HttpRequest<unknown>) => boolean,
  quietMs = 50,
): Promise<TestRequest> {
  const first = await nextRequest(http, match);
  const all = [first];
  await new Promise((resolve) => setTimeout(resolve, quietMs));
  all.push(...http.match(match));
  for (const older of all.slice(0, -1)) {
    if (!older.cancelled) older.flush(null);
  }
  return all[all.length - 1];
}
