import https from 'node:https';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { pushMessage } from '../../channels/push';
import { guardedLookup } from '../../outbound';
import { startPushService, type PushService } from '../support/push-service';
import type { User } from '../../models';
import { createTestContext, type TestContext } from '../support/harness';
import { launchChromium, LiveServer, loginAs, newUserContext, type Problems } from '../support/browser';

/**
 * The service worker in Debian's Chromium. Headless Chromium here cannot subscribe at a real push service (no
 * network), so the push is delivered to the worker through the DevTools protocol, as a push service would.
 */
jest.setTimeout(60_000);

let ctx: TestContext;
let server: LiveServer;
let browser: Browser;
let candidate: User;
let user: { context: BrowserContext; problems: Problems };
let page: Page;
let pushService: PushService;

beforeAll(async () => {
  // The job runner sends pushes as in production, to a local push service over https (its certificate trusted
  // through the push agent; OUTBOUND_ALLOW_PRIVATE lets it be on loopback).
  pushService = await startPushService({ vapidPublicKey: async () => (await ctx.services.vapid.get()).publicKey });
  const pushAgent = new https.Agent({ keepAlive: true, lookup: guardedLookup({ allowPrivate: true }), ca: pushService.ca });
  ctx = await createTestContext({ jobs: true, pushAgent, env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  candidate = await ctx.createUser('candidate', { name: 'Camille Candidate' });
  server = new LiveServer(ctx);
  await server.start();
  browser = await launchChromium();
  user = await newUserContext(browser);
  await user.context.grantPermissions(['notifications'], { origin: server.url });
  page = await user.context.newPage();
  await loginAs(page, server.url, candidate);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await ctx?.close();
  await pushService?.close();
});

test('/sw.js is served at the root under the page CSP, and registers with scope /', async () => {
  const res = await fetch(`${server.url}/sw.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");

  await page.goto(`${server.url}/settings/devices`);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(`${server.url}/`);
  // The explanation is shown, and nothing asked for permission on load.
  await page.waitForSelector('#push-optin:not([hidden]) [data-push-subscribe]');
});

test('a push shows a notification; its click opens the right page and marks the notification read', async () => {
  const instructor = await ctx.createUser('instructor');
  const course = await ctx.models.Course.create({ title: 'Realtime Web', instructorId: instructor.id });
  const application = await ctx.models.Application.create({ courseId: course.id, candidateId: candidate.id, status: 'approved' });
  const n = await ctx.models.Notification.create({
    recipientId: candidate.id,
    type: 'application_approved',
    title: 'Application approved',
    message: 'Welcome to Realtime Web',
    applicationId: application.id,
  });
  const cdp = await user.context.newCDPSession(page);
  const registrationId = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => r.scopeURL === `${server.url}/` && !r.isDeleted);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const message = pushMessage({ id: Number(n.id), type: n.type, title: n.title, message: n.message, applicationId: application.id });
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: server.url,
    registrationId: await registrationId,
    data: JSON.stringify(message.payload),
  });

  // Polled from the page: waitForFunction would take the async function's promise itself as truthy.
  type Shown = Array<{ title: string; body: string; tag: string; icon: string; data: unknown }>;
  let shown: Shown | null = null;
  for (let i = 0; i < 100 && !shown; i++) {
    shown = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const list = await reg.getNotifications();
      return list.length ? list.map((x) => ({ title: x.title, body: x.body, tag: x.tag, icon: x.icon, data: x.data })) : null;
    });
    if (!shown) await new Promise((r) => setTimeout(r, 100));
  }
  expect(shown).toEqual([
    {
      title: 'Application approved',
      body: 'Welcome to Realtime Web',
      tag: `application-${application.id}`,
      icon: `${server.url}/static/favicon.svg`,
      data: { id: Number(n.id), url: `/notifications/${n.id}` },
    },
  ]);

  // A tab opened before the worker took control is not its client, and navigate() refuses such a tab (the worker
  // then opens a new window instead); a user's tabs load under the installed worker, so this one does too.
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  // Nothing in DevTools clicks a system notification: the worker is handed the click its own handler receives.
  const [worker] = user.context.serviceWorkers();
  await Promise.all([
    // The notification's own page: marked read on opening, with where it leads as its main action.
    page.waitForURL((u) => u.pathname === `/notifications/${n.id}`),
    worker.evaluate(async () => {
      const sw = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
      const [notification] = await sw.registration.getNotifications();
      const Ctor = (self as unknown as { NotificationEvent: new (t: string, i: { notification: Notification }) => Event }).NotificationEvent;
      sw.dispatchEvent(new Ctor('notificationclick', { notification }));
    }),
  ]);
  await n.reload();
  expect(n.readAt).not.toBeNull();
  expect(user.problems.csp).toEqual([]);
});

test('the devices page lists a stored device and removes it', async () => {
  // Written directly: storing it through the service would resolve the name, and tests never leave the machine.
  const [[{ id }]] = (await ctx.sequelize.query(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
     VALUES (:userId, 'https://push.example.com/send/e2e', 'k', 'a', 'Test browser') RETURNING id`,
    { replacements: { userId: candidate.id } },
  )) as [Array<{ id: number }>, unknown];
  await page.goto(`${server.url}/settings/devices`);
  await page.waitForSelector(`[data-device-id="${id}"] >> text=Test browser`);
  await Promise.all([page.waitForURL(`${server.url}/settings/devices`), page.click(`[data-device-id="${id}"] button`)]);
  await page.waitForSelector(`[data-device-id="${id}"]`, { state: 'detached' });
  expect(await ctx.services.pushSubscriptions.list(candidate.id)).toEqual([]);
});

test('a new user turns alerts on from the devices page and sees the device listed; a push then reaches it', async () => {
  // Headless Chromium cannot reach a real push service, so the browser's subscription is a fake browser's at
  // the local push service (its keys made as a browser makes them); everything else is the page's own code.
  try {
    const fake = pushService.subscribe();
    const newcomer = await ctx.createUser('candidate', { name: 'Nina Newcomer' });
    const tab = await user.context.newPage();
    await user.context.clearCookies();
    await loginAs(tab, server.url, newcomer);
    await tab.goto(`${server.url}/settings/devices`);
    await tab.evaluate((json) => {
      let current: unknown = null;
      PushManager.prototype.getSubscription = async () => current as PushSubscription | null;
      PushManager.prototype.subscribe = async (opts?: PushSubscriptionOptionsInit) => {
        if (!(opts?.applicationServerKey instanceof Uint8Array) || opts.applicationServerKey.length !== 65) throw new Error('bad applicationServerKey');
        current = { endpoint: json.endpoint, toJSON: () => json, unsubscribe: async () => true };
        return current as unknown as PushSubscription;
      };
    }, fake.json);
    await Promise.all([tab.waitForEvent('load'), tab.click('[data-push-subscribe]')]);
    const [device] = await ctx.services.pushSubscriptions.list(newcomer.id);
    expect(device).toMatchObject({ endpoint: fake.endpoint, user_agent: expect.stringContaining('Chrome') });
    await tab.waitForSelector(`[data-device-id="${device.id}"]`);

    // Every tab is closed; the instructor decides, and the decision reaches the device through the job queue:
    // the push service checks the VAPID signature and decrypts the payload.
    await tab.close();
    await ctx.services.preferences.patch(newcomer.id, { types: { application_rejected: { push: true } } });
    const teacher = await ctx.createUser('instructor');
    const course = await ctx.createCourse(teacher, { title: 'Push in Practice' });
    const application = await ctx.models.Application.create({ courseId: course.id, candidateId: newcomer.id, motivation: 'Keen' });
    await (await ctx.login(teacher)).post(`/api/applications/${application.id}/reject/`, { reason: 'Full' }).expect(200);
    for (let i = 0; i < 100 && pushService.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pushService.received.map((r) => r.payload)).toEqual([
      expect.objectContaining({ title: expect.stringContaining('Push in Practice'), type: 'application_rejected' }),
    ]);
    expect(pushService.received[0].endpoint).toBe(fake.endpoint);
  } finally {
    await user.context.clearCookies();
  }
});
