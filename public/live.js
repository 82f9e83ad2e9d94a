// Herald's live connection, as the page sees it: the status indicator, what the tab tells the socket (visible or
// not, which courses' counts it shows), the replay point (?since=) and reconnecting at once when the way is clear.
// hx-ws (node_modules/htmx.org/dist/ext/hx-ws.js) owns the socket; this only listens to its events. See
// server/realtime/README.md, "Reconnecting".
(() => {
  'use strict';

  // --- connection status (live / reconnecting / offline) from the hx-ws events
  const STATES = {
    connecting: ['Connecting', 'Connecting to live updates'],
    live: ['Live', 'Live updates are on'],
    reconnecting: ['Reconnecting', 'Connection lost; reconnecting'],
    offline: ['Offline', 'No network: live updates resume when it is back'],
    stopped: ['Offline', 'Live updates are off. Reload the page to try again.'],
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

  // The hx-ws connection (its socket and its pending retry), and whether its last close was final (4401, 1008).
  let liveConnection = null;
  let stopped = false;
  // A page with a notification list asks the socket to replay what it missed (?since= the newest position it
  // shows: the bell holds the latest ones), sent while the socket was down or between the render and the connect.
  // A position is the id, or for a row that woke from snooze its later place (data-position, on pushed and
  // replayed rows), so one that woke while the socket was down still comes. The bell and the count come with every
  // snapshot anyway, so other pages need no replay.
  function newestShownPosition() {
    // The list says where the server stood when it rendered it (read before the rows): nothing older is news.
    let max = Math.max(statePosition, Number(document.getElementById('notification-list')?.dataset.statePosition || 0));
    // A group's line (issue 14) stands at its newest member's position, which it always carries.
    const rows = '#bell-items > [id^="bell-item-"], #notification-list > [id^="notification-"], #bell-items > [data-group][data-position], #notification-list > [data-group][data-position]';
    for (const el of document.querySelectorAll(rows)) {
      const at = Number(el.dataset.position || el.id.slice(el.id.lastIndexOf('-') + 1));
      if (at > max) max = at;
    }
    return max;
  }
  // The newest state change (read, done, deleted, ...) this page followed: the bell's state frames, live and replayed,
  // start with its position (only the last frame of a replayed run). Resuming past it, the server replays only the
  // changes made since; the page's rows already show the earlier ones.
  let statePosition = 0;
  const STATE_POSITION = /^<template data-state-position="(\d+)">/;
  document.addEventListener('htmx:ws:after:message:incoming', (e) => {
    const data = e.detail?.message?.data;
    const m = typeof data === 'string' ? STATE_POSITION.exec(data) : null;
    if (m) statePosition = Math.max(statePosition, Number(m[1]));
  });
  document.addEventListener('htmx:ws:before:connection', (e) => {
    liveConnection = e.detail?.connection || null;
    if (liveConnection && document.getElementById('notification-list')) {
      const url = new URL(liveConnection.url);
      url.searchParams.set('since', String(newestShownPosition()));
      liveConnection.url = url.href;
    }
    const attempt = liveConnection?.attempt ?? 0;
    setStatus(!navigator.onLine ? 'offline' : attempt > 0 ? 'reconnecting' : 'connecting');
  });
  // The server pushes (Web Push) only to people with no visible tab: say on every connect and every change.
  let liveSocket = null;
  function sendVisibility() {
    if (liveSocket?.readyState === WebSocket.OPEN) liveSocket.send(JSON.stringify({ type: 'visibility', visible: !document.hidden }));
  }
  // Which courses' counts this page shows (catalog cards, a course page): the server pushes a count change only to
  // the tabs that show that course. Said on every connect, and again when a swap changed the set (a search).
  let watched = '';
  function sendWatch(force) {
    const ids = [...new Set([...document.querySelectorAll('[data-course-count]')].map((el) => Number(el.dataset.courseCount)))].slice(0, 500);
    const key = ids.join(',');
    if ((!force && key === watched) || liveSocket?.readyState !== WebSocket.OPEN) return;
    watched = key;
    if (ids.length > 0 || !force) liveSocket.send(JSON.stringify({ type: 'watch', courses: ids }));
  }
  document.addEventListener('htmx:ws:after:connection', (e) => {
    setStatus('live');
    liveSocket = e.detail?.connection?.socket || null;
    sendVisibility();
    sendWatch(true);
  });
  document.addEventListener('htmx:after:swap', () => sendWatch(false));
  document.addEventListener('visibilitychange', sendVisibility);
  document.addEventListener('htmx:ws:close', (e) => {
    const code = e.detail?.code;
    if (e.detail?.reason === 'removed') return; // our own reconnectNow() below: a new connection follows at once
    stopped = e.detail?.reason === 'cancelled' || (code != null && !RETRIED.has(code));
    setStatus(stopped ? 'stopped' : navigator.onLine ? 'reconnecting' : 'offline');
  });
  // hx-ws waits out its backoff even when we know the way is clear again: back online, the tab shown again, or
  // the page restored from the back/forward cache (hx-ws closed its socket with 1000 on pagehide and would never
  // reopen it). Re-processing the element (htmx.process with force) ends the old connection and opens a new one
  // now. A socket open or opening, a final close (signed out) or a hidden tab is left alone.
  function reconnectNow() {
    const el = document.getElementById('live-connection');
    const state = liveConnection?.socket?.readyState;
    if (state === WebSocket.OPEN && navigator.onLine) setStatus('live'); // the socket outlived a short network loss
    if (!el || stopped || document.hidden || !navigator.onLine || state === WebSocket.OPEN || state === WebSocket.CONNECTING) return;
    setStatus('reconnecting');
    htmx.process(el, true);
  }
  window.addEventListener('offline', () => setStatus('offline'));
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', reconnectNow);
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted) return;
    stopped = false; // the 1000 of pagehide was ours, not the server's
    reconnectNow();
  });
})();
