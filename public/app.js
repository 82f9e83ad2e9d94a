// Herald's small client: fresh "time ago", desktop notifications, toasts, the bell popover (the live connection
// is public/live.js).
// No inline scripts anywhere (CSP with nonces); everything hangs off document-level listeners, so swapped-in
// and pushed HTML needs no wiring of its own.
(() => {
  'use strict';

  // --- "time ago", kept fresh without refetching (same rules as timeAgo() in server/web/render.ts)
  function timeAgo(iso, now) {
    const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
    if (s < 45) return 'just now';
    if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
    if (s < 86400) return `${Math.round(s / 3600)} h ago`;
    if (s < 7 * 86400) return `${Math.round(s / 86400)} d ago`;
    return new Date(iso).toISOString().slice(0, 10);
  }
  const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function refreshTimes(root) {
    const now = Date.now();
    for (const t of (root || document).querySelectorAll('time[datetime]')) {
      const iso = t.getAttribute('datetime');
      const text = timeAgo(iso, now);
      if (t.textContent !== text) t.textContent = text;
      if (!t.dataset.localised) {
        t.title = exact.format(new Date(iso));
        t.dataset.localised = '1';
      }
    }
  }
  setInterval(() => refreshTimes(), 30_000);

  // --- desktop notifications: opt in with a button; raised only while the tab is hidden
  const canNotify = 'Notification' in window;
  // Web Push reaches this device with every tab closed; where the browser has it, the button leads to the page
  // that explains it before the browser asks (never a prompt on load).
  const canPush = canNotify && 'serviceWorker' in navigator && 'PushManager' in window && window.isSecureContext;
  let pushSubscribed = false;
  function syncOptIn() {
    const btn = document.getElementById('notify-optin');
    if (btn) btn.hidden = !canNotify || (canPush ? pushSubscribed || Notification.permission === 'denied' : Notification.permission !== 'default');
    const panel = document.getElementById('push-optin');
    if (panel) {
      panel.hidden = !canPush;
      const state = panel.querySelector('.push-optin-state');
      const button = panel.querySelector('[data-push-subscribe]');
      if (state) {
        state.textContent = pushSubscribed
          ? 'Alerts are on for this device.'
          : Notification.permission === 'denied'
            ? 'Your browser blocks notifications from Herald: allow them in its site settings first.'
            : '';
      }
      if (button) button.hidden = pushSubscribed || Notification.permission === 'denied';
    }
  }
  document.addEventListener('click', async (e) => {
    if (!e.target.closest?.('#notify-optin')) return;
    if (canPush) {
      location.assign('/settings/devices#push-optin');
      return;
    }
    await Notification.requestPermission();
    syncOptIn();
    if (Notification.permission === 'granted') toast('Desktop notifications are on.');
  });

  // --- Web Push: the service worker, the subscription, and keeping the stored one in step with the browser's
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute('hx-headers:inherited') || '{}')['X-CSRF-Token'] || '';
    } catch {
      return '';
    }
  }
  const STORED_KEY = 'herald.push.stored';
  async function storeSubscription(sub, force) {
    const json = JSON.stringify(sub.toJSON());
    // Unchanged and stored within the day: nothing to tell the server. Otherwise (new keys, a new endpoint after
    // the browser rotated it without a pushsubscriptionchange) the same POST updates the row.
    const last = JSON.parse(localStorage.getItem(STORED_KEY) || 'null');
    if (!force && last && last.json === json && Date.now() - last.at < 86_400_000) return true;
    const res = await fetch('/api/push/subscriptions/', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: json,
    });
    if (res.ok) localStorage.setItem(STORED_KEY, JSON.stringify({ json, at: Date.now() }));
    return res.ok;
  }
  async function pushRegistration() {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    return navigator.serviceWorker.ready;
  }
  async function subscribePush() {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      syncOptIn();
      toast('Alerts stay off: your browser did not allow them.', 'error');
      return;
    }
    const reg = await pushRegistration();
    const { key } = await (await fetch('/api/push/vapid-public-key', { credentials: 'same-origin' })).json();
    const raw = atob(key.replace(/-/g, '+').replace(/_/g, '/'));
    const applicationServerKey = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const sub = (await reg.pushManager.getSubscription()) || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey }));
    if (!(await storeSubscription(sub, true))) {
      toast('Could not turn alerts on. Please try again.', 'error');
      return;
    }
    pushSubscribed = true;
    syncOptIn();
    toast('Alerts are on for this device.');
    if (document.getElementById('device-list')) location.reload();
  }
  document.addEventListener('click', (e) => {
    if (!e.target.closest?.('[data-push-subscribe]')) return;
    subscribePush().catch(() => toast('Could not turn alerts on in this browser.', 'error'));
  });
  // Removing this very device also ends the browser's subscription, or the next page load would store it again.
  document.addEventListener('submit', (e) => {
    const row = e.target.closest?.('#device-list [data-endpoint]');
    if (!row || !canPush || row.dataset.unsubscribed) return;
    e.preventDefault();
    (async () => {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub && sub.endpoint === row.dataset.endpoint) {
        await sub.unsubscribe();
        localStorage.removeItem(STORED_KEY);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        row.dataset.unsubscribed = '1';
        e.target.requestSubmit();
      });
  });
  // On every page load: the browser's subscription, if any, is the truth; the server's copy follows it.
  async function recheckPush() {
    if (!canPush || !document.body.classList.contains('signed-in')) return;
    const reg = await pushRegistration();
    const sub = Notification.permission === 'granted' ? await reg.pushManager.getSubscription() : null;
    pushSubscribed = Boolean(sub);
    if (sub) await storeSubscription(sub, false);
    for (const row of document.querySelectorAll('#device-list [data-endpoint]')) {
      row.querySelector('.this-device').hidden = !sub || row.dataset.endpoint !== sub.endpoint;
    }
    syncOptIn();
  }

  let lastAnnounced = null;
  document.addEventListener('htmx:ws:after:message:incoming', () => {
    const item = document.querySelector('#live-announcer [data-notification-id]');
    if (!item || item.dataset.notificationId === lastAnnounced) return;
    lastAnnounced = item.dataset.notificationId;
    // With push on, the service worker shows it (and reaches this device with the tab closed too): not twice.
    if (!document.hidden || !canNotify || pushSubscribed || Notification.permission !== 'granted') return;
    const n = new Notification(item.dataset.title, { body: item.dataset.body || '', tag: `herald-${lastAnnounced}`, icon: '/static/favicon.svg' });
    const href = item.dataset.href;
    n.onclick = () => {
      window.focus();
      // Only our own paths (the server builds them from ids), never another origin.
      if (href && href.startsWith('/') && !href.startsWith('//')) location.assign(href);
      n.close();
    };
  });

  // --- after a push: "Mark all as read" follows the badge, and no list holds the same item twice
  function syncMarkAll() {
    const badge = document.getElementById('bell-badge');
    if (!badge) return;
    for (const btn of document.querySelectorAll('[data-mark-all]')) btn.disabled = badge.hidden;
  }
  // A row pushed while its page was rendering is also in the rendered list: the pushed copy (on top, the newer)
  // stays. Pushes insert only into these lists.
  const PUSHED_LISTS = ['#review-list', '#notification-list', '#bell-items'];
  function dedupeLists() {
    for (const sel of PUSHED_LISTS) {
      const list = document.querySelector(sel);
      if (!list) continue;
      const seen = new Set();
      for (const child of [...list.children]) {
        if (!child.id) continue;
        if (seen.has(child.id)) child.remove();
        else seen.add(child.id);
      }
    }
  }
  // A row back in the inbox (undone, or marked unread, in another tab) arrives on top marked data-return: it takes
  // the place of a copy the list holds, or goes where its position puts it (positions: data-position, else the id),
  // or leaves when this list does not take it in: the Done tab, a tab of the other read state, or below the last
  // row while "Load more" would bring it.
  const positionOf = (el) => Number(el.dataset.position || el.id.slice(el.id.lastIndexOf('-') + 1));
  function placeReturning() {
    const list = document.getElementById('notification-list');
    if (!list) return;
    for (const card of [...list.querySelectorAll(':scope > [data-return]')]) {
      card.removeAttribute('data-return');
      const copy = [...list.children].find((el) => el !== card && el.id === card.id);
      const unread = card.querySelector('.notif-status.is-unread') !== null;
      const status = list.dataset.status || 'all';
      if (status === 'done' || (status === 'unread' && !unread) || (status === 'read' && unread)) {
        card.remove();
        if (status === 'done') copy?.remove(); // no longer done; a copy in the other read state stays, as on a click
        continue;
      }
      if (copy) {
        copy.replaceWith(card);
        continue;
      }
      const at = positionOf(card);
      // Among the rows in place: another returning card still waiting on top (a bulk undone, a replay) is no anchor.
      const next = [...list.children].find((el) => el !== card && el.id && !el.hasAttribute('data-return') && positionOf(el) < at);
      if (next) list.insertBefore(card, next);
      else if (document.querySelector('#notification-more a')) card.remove();
      else list.append(card);
    }
  }
  document.addEventListener('htmx:ws:after:message:incoming', () => {
    placeReturning();
    dedupeLists();
    syncMarkAll();
  });
  document.addEventListener('htmx:after:swap', syncMarkAll);
  // A group action's own answer brings the group's fresh line marked data-return too (push-group.njk), as the push
  // to the other tabs does.
  document.addEventListener('htmx:after:swap', () => {
    placeReturning();
    dedupeLists();
  });

  // --- toasts: errors from htmx requests arrive as out-of-band toasts; they leave on their own
  function toast(message, tone) {
    const box = document.getElementById('toasts');
    if (!box) return;
    const div = document.createElement('div');
    div.className = `toast toast-${tone || 'info'}`;
    div.setAttribute('role', tone === 'error' ? 'alert' : 'status');
    div.textContent = message;
    box.append(div);
  }
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType === 1 && node.classList.contains('toast')) setTimeout(() => node.remove(), 6000);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A request that failed without any answer (network down) still deserves a word.
  document.addEventListener('htmx:error', (e) => {
    if (e.detail?.ctx && !e.detail.ctx.response) toast('Could not reach Herald. Check your connection and try again.', 'error');
  });

  // --- the bell: a pushed bell replaces the open popover; keep it open across the swap
  // All / Unread: the choice is kept on .bell-slot (data-bell-show; the layout's, never swapped), which the CSS reads; a pushed
  // bell comes with All pressed, so the buttons are put back in step after every swap.
  function syncBellTabs() {
    const tab = document.querySelector('.bell-slot')?.dataset.bellShow || 'all';
    for (const b of document.querySelectorAll('[data-bell-tab]')) b.setAttribute('aria-pressed', String(b.dataset.bellTab === tab));
  }
  document.addEventListener('click', (e) => {
    const b = e.target.closest?.('[data-bell-tab]');
    const slot = b && b.closest('.bell-slot');
    if (!slot) return;
    slot.dataset.bellShow = b.dataset.bellTab;
    syncBellTabs();
  });
  // Focus inside the bell (an item's action, a tab) is lost with the element a push replaces: remember what had it
  // and give it back to the same control in the new bell, or to the same action of the item now in that place
  // (the one marked done left), or to the current tab.
  let bellFocus = null;
  function rememberBellFocus() {
    const el = document.activeElement;
    if (!el || !el.closest?.('#bell')) return;
    const item = el.closest('.bell-item');
    const items = [...document.querySelectorAll('#bell-items > .bell-item')].filter((li) => li.getClientRects().length > 0);
    bellFocus = { itemId: item?.id, index: items.indexOf(item), action: el.dataset.bellAction, tab: el.dataset.bellTab };
  }
  function restoreBellFocus() {
    const f = bellFocus;
    if (!f || (document.activeElement && document.activeElement !== document.body && document.activeElement.isConnected)) return;
    bellFocus = null;
    const items = [...document.querySelectorAll('#bell-items > .bell-item')].filter((li) => li.getClientRects().length > 0);
    const item = (f.itemId && document.getElementById(f.itemId)?.getClientRects().length ? document.getElementById(f.itemId) : null) ||
      items[Math.min(Math.max(f.index, 0), items.length - 1)];
    const target = (f.action && item?.querySelector(`[data-bell-action="${f.action}"]`)) ||
      (f.tab && document.querySelector(`[data-bell-tab="${f.tab}"]`)) ||
      document.querySelector('[data-bell-tab][aria-pressed="true"]');
    target?.focus();
  }
  let bellWasOpen = false;
  document.addEventListener('htmx:before:swap', () => {
    bellWasOpen = !!document.querySelector('#bell-menu:popover-open');
    rememberBellFocus();
  });
  function afterBellSwap() {
    const menu = document.getElementById('bell-menu');
    if (bellWasOpen && menu && !menu.matches(':popover-open')) menu.showPopover();
    syncBellTabs();
    if (menu?.matches(':popover-open')) restoreBellFocus();
    else bellFocus = null;
  }
  document.addEventListener('htmx:after:swap', () => {
    afterBellSwap();
    refreshTimes();
  });
  // htmx fires after:swap on the element that made the request: a form inside the bell is gone by then (the
  // answer replaced the bell), so the event never reaches the document. The bell's own replacement does.
  document.addEventListener('DOMContentLoaded', () => {
    const slot = document.querySelector('.bell-slot');
    if (slot) new MutationObserver(afterBellSwap).observe(slot, { childList: true });
  });

  // --- the account menu closes on Escape and on a click elsewhere, like the bell's popover
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const open = document.querySelector('details.usermenu[open]');
    if (open) {
      open.open = false;
      open.querySelector('summary')?.focus();
    }
  });
  document.addEventListener('click', (e) => {
    const open = document.querySelector('details.usermenu[open]');
    if (open && !open.contains(e.target)) open.open = false;
  });

  document.addEventListener('DOMContentLoaded', () => {
    syncOptIn();
    refreshTimes();
    recheckPush().catch(() => undefined);
  });
})();
