// Herald's small client: connection status, fresh "time ago", desktop notifications, toasts, the bell popover.
// No inline scripts anywhere (CSP with nonces); everything hangs off document-level listeners, so swapped-in
// and pushed HTML needs no wiring of its own.
(() => {
  'use strict';

  // --- connection status (live / reconnecting / offline) from the hx-ws events
  const STATES = {
    connecting: ['Connecting', 'Connecting to live updates'],
    live: ['Live', 'Live updates are on'],
    reconnecting: ['Reconnecting', 'Connection lost; reconnecting'],
    offline: ['Offline', 'Live updates are off. Reload the page to try again.'],
  };
  // hx-ws retries after these close codes (see dist/ext/hx-ws.js); any other close is final.
  const RETRIED = new Set([1001, 1005, 1006, 1011, 1012, 1013, 1014]);

  function setStatus(state) {
    const el = document.getElementById('connection-status');
    if (!el || el.dataset.state === state) return;
    el.dataset.state = state;
    el.title = STATES[state][1];
    el.querySelector('.conn-label').textContent = STATES[state][0];
  }

  document.addEventListener('htmx:ws:before:connection', (e) => {
    const attempt = e.detail?.connection?.attempt ?? 0;
    setStatus(attempt > 0 ? 'reconnecting' : 'connecting');
  });
  document.addEventListener('htmx:ws:after:connection', () => setStatus('live'));
  document.addEventListener('htmx:ws:close', (e) => {
    const code = e.detail?.code;
    if (e.detail?.reason === 'cancelled' || (code != null && !RETRIED.has(code))) setStatus('offline');
    else setStatus('reconnecting');
  });
  window.addEventListener('offline', () => setStatus('offline'));
  window.addEventListener('online', () => {
    if (document.getElementById('connection-status')?.dataset.state === 'offline') setStatus('reconnecting');
  });

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
  function syncOptIn() {
    const btn = document.getElementById('notify-optin');
    if (btn) btn.hidden = !canNotify || Notification.permission !== 'default';
  }
  document.addEventListener('click', async (e) => {
    if (!e.target.closest?.('#notify-optin')) return;
    await Notification.requestPermission();
    syncOptIn();
    if (Notification.permission === 'granted') toast('Desktop notifications are on.');
  });

  let lastAnnounced = null;
  document.addEventListener('htmx:ws:after:message:incoming', () => {
    const item = document.querySelector('#live-announcer [data-notification-id]');
    if (!item || item.dataset.notificationId === lastAnnounced) return;
    lastAnnounced = item.dataset.notificationId;
    if (!document.hidden || !canNotify || Notification.permission !== 'granted') return;
    const n = new Notification(item.dataset.title, { body: item.dataset.body || '', tag: `herald-${lastAnnounced}`, icon: '/static/favicon.svg' });
    const href = item.dataset.href;
    n.onclick = () => {
      window.focus();
      // Only our own paths (the server builds them from ids), never another origin.
      if (href && href.startsWith('/') && !href.startsWith('//')) location.assign(href);
      n.close();
    };
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
  let bellWasOpen = false;
  document.addEventListener('htmx:before:swap', () => {
    bellWasOpen = !!document.querySelector('#bell-menu:popover-open');
  });
  document.addEventListener('htmx:after:swap', () => {
    const menu = document.getElementById('bell-menu');
    if (bellWasOpen && menu && !menu.matches(':popover-open')) menu.showPopover();
    refreshTimes();
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
  });
})();
