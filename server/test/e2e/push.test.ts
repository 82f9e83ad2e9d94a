import type { Page } from 'playwright-core';
import { pushMessage } from '../../channels/push';
import { pushSenderOptions, startPushServiceFor } from '../support/push-context';
import type { PushService } from '../support/push-service';
import type { User } from '../../models';
import { type Person, useBrowserWorld } from '../support/browser-world';

/**
 * The service worker in Debian's Chromium. Headless Chromium here cannot subscribe at a real push service (no
 * network), so the push is delivered to the worker through the DevTools protocol, as a push service would.
 */
jest.setTimeout(60_000);

let pushService: PushService;
// The job runner sends pushes as in production, to a local push service over https (its certificate trusted
// through the push agent; OUTBOUND_ALLOW_PRIVATE lets it be on loopback). The service comes first, its VAPID key
// read from the world's context once there.
beforeAll(async () => {
  pushService = await startPushServiceFor(() => world.ctx);
});
const world = useBrowserWorld({ context: () => pushSenderOptions(pushService) });
let candidate: User;
let user: Person;
let page: Page;

beforeAll(async () => {
  candidate = await world.ctx.createUser('candidate', { name: 'Camille Candidate' });
  user = await world.person();
  await user.context.grantPermissions(['notifications'], { origin: world.server.url });
  page = await user.context.newPage();
  await world.login(page, candidate);
});

afterAll(async () => {
  await pushService?.close();
});

test('/sw.js is served at the root under the page CSP, and registers with scope /', async () => {
  const res = await fetch(`${world.server.url}/sw.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/javascript/);
  expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");

  await page.goto(`${world.server.url}/settings/devices`);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toBe(`${world.server.url}/`);
  // The explanation is shown, and nothing asked for permission on load.
  await page.waitForSelector('#push-optin:not([hidden]) [data-push-subscribe]');
});

test('a push shows a notification; its click opens the right page and marks the notification read', async () => {
  const instructor = await world.ctx.createUser('instructor');
  const course = await world.ctx.models.Course.create({ title: 'Realtime Web', instructorId: instructor.id });
  const application = await world.ctx.models.Application.create({ courseId: course.id, candidateId: candidate.id, status: 'approved' });
  const n = await world.ctx.models.Notification.create({
    recipientId: candidate.id,
    type: 'application_approved',
    title: 'Application approved',
    message: 'Welcome to Realtime Web',
    applicationId: application.id,
  });
  const cdp = await user.context.newCDPSession(page);
  const registrationId = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => r.scopeURL === `${world.server.url}/` && !r.isDeleted);
      if (ours) resolve(ours.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  const message = pushMessage({ id: Number(n.id), type: n.type, title: n.title, message: n.message, applicationId: application.id });
  await cdp.send('ServiceWorker.deliverPushMessage', {
    origin: world.server.url,
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
      icon: `${world.server.url}/static/favicon.svg`,
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
  const [[{ id }]] = (await world.ctx.sequelize.query(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
     VALUES (:userId, 'https://push.example.com/send/e2e', 'k', 'a', 'Test browser') RETURNING id`,
    { replacements: { userId: candidate.id } },
  )) as [Array<{ id: number }>, unknown];
  await page.goto(`${world.server.url}/settings/devices`);
  await page.waitForSelector(`[data-device-id="${id}"] >> text=Test browser`);
  await Promise.all([page.waitForURL(`${world.server.url}/settings/devices`), page.click(`[data-device-id="${id}"] button`)]);
  await page.waitForSelector(`[data-device-id="${id}"]`, { state: 'detached' });
  expect(await world.ctx.services.pushSubscriptions.list(candidate.id)).toEqual([]);
});

test('a new user turns alerts on from the devices page and sees the device listed; a push then reaches it', async () => {
  // Headless Chromium cannot reach a real push service, so the browser's subscription is a fake browser's at
  // the local push service (its keys made as a browser makes them); everything else is the page's own code.
  try {
    const fake = pushService.subscribe();
    const newcomer = await world.ctx.createUser('candidate', { name: 'Nina Newcomer' });
    const tab = await user.context.newPage();
    await user.context.clearCookies();
    await world.login(tab, newcomer);
    await tab.goto(`${world.server.url}/settings/devices`);
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
    const [device] = await world.ctx.services.pushSubscriptions.list(newcomer.id);
    expect(device).toMatchObject({ endpoint: fake.endpoint, user_agent: expect.stringContaining('Chrome') });
    await tab.waitForSelector(`[data-device-id="${device.id}"]`);

    // Every tab is closed; the instructor decides, and the decision reaches the device through the job queue:
    // the push service checks the VAPID signature and decrypts the payload.
    await tab.close();
    await world.ctx.services.preferences.patch(newcomer.id, { types: { application_rejected: { push: true } } });
    const teacher = await world.ctx.createUser('instructor');
    const course = await world.ctx.createCourse(teacher, { title: 'Push in Practice' });
    const application = await world.ctx.models.Application.create({ courseId: course.id, candidateId: newcomer.id, motivation: 'Keen' });
    await (await world.ctx.login(teacher)).post(`/api/applications/${application.id}/reject/`, { reason: 'Full' }).expect(200);
    for (let i = 0; i < 100 && pushService.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pushService.received.map((r) => r.payload)).toEqual([
      expect.objectContaining({ title: expect.stringContaining('Push in Practice'), type: 'application_rejected' }),
    ]);
    expect(pushService.received[0].endpoint).toBe(fake.endpoint);
  } finally {
    await user.context.clearCookies();
  }
});
