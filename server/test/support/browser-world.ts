import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureAdminBuild } from '../../../admin/scripts/build-if-stale';
import type { User } from '../../models';
import { launchChromium, LiveServer, loginAs, newUserContext, waitLive, type Problems } from './browser';
import { createTestContext, type TestContext } from './harness';

type ContextOptions = Parameters<typeof createTestContext>[0];

/** One person: a browser context of their own, and what its pages reported. */
export interface Person {
  context: BrowserContext;
  problems: Problems;
}

/** What a browser test file works in: its test context, the harness app live on a port, and one Chromium. */
export interface BrowserWorld {
  readonly ctx: TestContext;
  readonly server: LiveServer;
  readonly browser: Browser;
  /** A new person (desktop window, or a phone); checking their problems is the caller's. */
  person(opts?: { phone?: boolean }): Promise<Person>;
  /**
   * A new person's page, signed in as `user`. Their console errors and CSP violations are checked after the test
   * that opened it: there must be none.
   */
  pageAs(user: Pick<User, 'email'>, opts?: { phone?: boolean }): Promise<Page>;
  /** Signs `page` in as `user` through the login form. */
  login(page: Page, user: Pick<User, 'email'>): Promise<void>;
  /**
   * One person signed in as `user` with a tab open at each of `paths`, every tab live (its socket up). Checking
   * the person's problems is the caller's.
   */
  tabs(user: Pick<User, 'email'>, paths: string[]): Promise<{ who: Person; pages: Page[] }>;
}

/**
 * Registers the calling file's hooks for a browser world and returns it (its members are there from the first
 * beforeAll on): a test context (`context`: createTestContext's options, or a function giving them once the file's
 * earlier beforeAll hooks have run), a LiveServer on it and one Chromium, all closed after the file. With
 * `console`, the admin console's bundle is built first if stale: never test a stale bundle (npm test builds first,
 * but a lone run of a file may follow an edit).
 */
export function useBrowserWorld(opts: { context?: ContextOptions | (() => ContextOptions); console?: boolean } = {}): BrowserWorld {
  let ctx: TestContext | undefined;
  let server: LiveServer | undefined;
  let browser: Browser | undefined;
  /** The problems of the people `pageAs` made during the current test. */
  const seen: Problems[] = [];

  beforeAll(async () => {
    if (opts.console && !ensureAdminBuild()) throw new Error('`npm run build` failed');
    ctx = await createTestContext(typeof opts.context === 'function' ? opts.context() : opts.context);
    server = new LiveServer(ctx);
    await server.start();
    browser = await launchChromium();
  });

  afterEach(() => {
    for (const p of seen.splice(0)) {
      expect(p.console).toEqual([]);
      expect(p.csp).toEqual([]);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await ctx?.close();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser world starts in beforeAll: use it from a hook or a test');
    return value;
  };
  const world: BrowserWorld = {
    get ctx() {
      return started(ctx);
    },
    get server() {
      return started(server);
    },
    get browser() {
      return started(browser);
    },
    person: (o = {}) => newUserContext(world.browser, o),
    login: (page, user) => loginAs(page, world.server.url, user),
    async pageAs(user, o = {}) {
      const { context, problems } = await world.person(o);
      seen.push(problems);
      const page = await context.newPage();
      await world.login(page, user);
      return page;
    },
    async tabs(user, paths) {
      const who = await world.person();
      const pages = [await who.context.newPage()];
      await world.login(pages[0], user);
      while (pages.length < paths.length) pages.push(await who.context.newPage());
      await Promise.all(pages.map((p, i) => p.goto(`${world.server.url}${paths[i]}`)));
      await Promise.all(pages.map(waitLive));
      return { who, pages };
    },
  };
  return world;
}
