import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createLogger } from '../../logger';
import type { User } from '../../models';
import { Dispatcher } from '../../channels';
import { createRealtime, LocalBus, type Realtime } from '../../realtime';
import { PASSWORD, type TestContext } from './harness';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(__dirname, '..', '..', '..', 'test-artifacts');

/** Debian's Chromium, never a downloaded one (see shared notes). Missing on CI is a failure, not a skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install it: apt-get update && apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * The harness app with the realtime layer on a real port, which can be stopped and started again on the same port
 * (a server restart, as the browser sees it).
 */
export class LiveServer {
  url = '';
  #port = 0;
  #server?: http.Server;
  #realtime?: Realtime;
  #dispatcher?: Dispatcher;
  constructor(private readonly ctx: TestContext) {}

  async start(): Promise<void> {
    const logger = createLogger('silent');
    const bus = new LocalBus(this.ctx.events, logger);
    const realtime = createRealtime({
      config: this.ctx.config,
      logger,
      sequelize: this.ctx.sequelize,
      services: this.ctx.services,
      bus,
      session: this.ctx.session.middleware,
    });
    const dispatcher = new Dispatcher({ bus, logger, channels: [realtime] });
    await dispatcher.start();
    const server = http.createServer(this.ctx.app);
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
    realtime.attach(server);
    this.#port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.#port}`;
    this.#server = server;
    this.#realtime = realtime;
    this.#dispatcher = dispatcher;
  }

  async stop(): Promise<void> {
    await this.#realtime?.closeSockets();
    await this.#dispatcher?.stop();
    const server = this.#server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.#server = undefined;
    this.#realtime = undefined;
    this.#dispatcher = undefined;
  }
}

/** Everything a page reported that would count as a problem: console errors, page errors, CSP violations. */
export interface Problems {
  console: string[];
  csp: string[];
  dialogs: string[];
}

/** A browser context (one user) that records problems on each of its pages. */
export async function newUserContext(browser: Browser, opts: { phone?: boolean } = {}): Promise<{ context: BrowserContext; problems: Problems }> {
  const context = await browser.newContext(
    opts.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 800 } },
  );
  const problems: Problems = { console: [], csp: [], dialogs: [] };
  await context.exposeBinding('__heraldCsp', (_src, text: string) => problems.csp.push(text));
  // Injected by the browser itself, so it is not subject to the page's CSP.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __heraldCsp(t: string): void }).__heraldCsp(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  context.on('page', (page) => watch(page, problems));
  return { context, problems };
}

function watch(page: Page, problems: Problems) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.console.push(msg.text());
  });
  page.on('pageerror', (err) => problems.console.push(`pageerror: ${err.message}`));
  page.on('dialog', (d) => {
    problems.dialogs.push(d.message());
    void d.dismiss();
  });
}

/** Logs in through the login form, like a person (with the harness's password unless given, e.g. the demo's). */
export async function loginAs(page: Page, baseUrl: string, user: Pick<User, 'email'>, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill('#email', user.email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

/** Signs in to the admin console at its front door, like a person: `/admin` sends a visitor to its login form. */
export async function consoleSignIn(page: Page, baseUrl: string, user: Pick<User, 'email'>, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/admin`);
  await page.waitForURL(/\/admin\/login/);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/dashboard$/);
}

/** Waits until the page's socket is up (the status indicator says live). */
export async function waitLive(page: Page): Promise<void> {
  await page.waitForSelector('#connection-status[data-state="live"]', { timeout: 10_000 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(path.join(ARTIFACTS, 'screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'screenshots', `${name}.png`), fullPage: true });
}

/** Waits until the bell's badge shows `text`, or, for null, until it is hidden. */
export async function expectBadge(page: Page, text: string | null): Promise<void> {
  if (text === null) {
    await page.waitForSelector('#bell-badge[hidden]', { state: 'attached' });
    return;
  }
  await page.waitForFunction(
    (t) => {
      const b = document.getElementById('bell-badge');
      return !!b && !b.hidden && b.firstChild?.textContent === t;
    },
    text,
    { timeout: 10_000 },
  );
}
