// Herald's service worker: shows Web Push notifications with every tab closed, and opens the one clicked.
// Served at /sw.js (scope /) under the pages' CSP; it caches nothing and intercepts no fetch.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// The payload is { id, title, body, url, tag, type } (server/channels/push/message.ts). `tag` makes a newer push
// of the same group (a later decision on the same application) replace the one on screen instead of stacking.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || 'Herald', {
      body: data.body || '',
      icon: '/static/favicon.svg',
      tag: data.tag || undefined,
      renotify: Boolean(data.tag),
      data: { id: data.id, url: data.url },
    }),
  );
});

// A click opens /notifications/{id}: the page that marks it read (with the session, like following it from an
// email) and leads to what it is about. An open Herald tab is reused rather than opening another.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openNotification(event.notification.data || {}));
});

async function openNotification(data) {
  // Only our own pages, whatever a payload says.
  const target = new URL(typeof data.url === 'string' ? data.url : '/notifications', self.location.origin);
  const url = target.origin === self.location.origin ? target.href : new URL('/notifications', self.location.origin).href;
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = tabs.find((c) => new URL(c.url).origin === self.location.origin);
  if (tab) {
    // focus() needs the click's user activation; navigate() does not, so a refused focus still opens the page.
    await tab.focus().catch(() => undefined);
    if ('navigate' in tab) {
      const navigated = await tab.navigate(url).catch(() => null);
      if (navigated) return;
    }
  }
  await self.clients.openWindow(url);
}
