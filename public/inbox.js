// The notifications page's keyboard and selection (issue 14). Loaded by that page only; the actions themselves are
// the rows' own forms (boosted by htmx, plain posts without JavaScript), so a key does exactly what a click does.
//   j / k  next / previous row     e  done (Done tab: back to the inbox)     u  mark unread
//   s      snooze menu             x  select the row                        /  search (when the page has one)
//   ?      the keys
// Nothing here steals a key while the user types in a field, or when a modifier is held (browser shortcuts).
(() => {
  'use strict';
  const list = document.getElementById('notification-list');
  if (!list) return;
  const help = document.getElementById('inbox-keys');
  const selectAll = document.querySelector('[data-select-all]');
  const counter = document.querySelector('[data-selected-count]');
  const bulk = document.getElementById('inbox-bulk');

  // Rows hidden by the tab's CSS (a read row pushed into Unread) are skipped.
  const rows = () => [...list.querySelectorAll('.notification-card')].filter((r) => r.getClientRects().length > 0);
  let current = null;
  let currentIndex = -1;

  function setCurrent(row) {
    if (current) current.classList.remove('is-current');
    current = row;
    if (!row) return;
    currentIndex = rows().indexOf(row);
    row.classList.add('is-current');
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }

  /** The current row; when it left the list (done, snoozed, deleted) the one that took its place. */
  function currentRow() {
    if (current && current.isConnected && current.getClientRects().length > 0) return current;
    const all = rows();
    if (all.length === 0) return null;
    setCurrent(all[Math.min(Math.max(currentIndex, 0), all.length - 1)]);
    return current;
  }

  function move(delta) {
    const all = rows();
    if (all.length === 0) return;
    // No row yet: the first key picks the first row (j) or the last (k). A row that left: its successor.
    if (!current) return setCurrent(all[delta > 0 ? 0 : all.length - 1]);
    const i = all.indexOf(current);
    if (i < 0) return void currentRow();
    setCurrent(all[Math.min(all.length - 1, Math.max(0, i + delta))]);
  }

  /** Presses the current row's control for `key` (data-key in partials/notification-row-actions.njk). */
  function press(key) {
    const row = currentRow();
    const control = row && row.querySelector(`[data-key="${key}"]`);
    if (!control || control.getClientRects().length === 0) return;
    if (control.tagName === 'SUMMARY') {
      const menu = control.parentElement;
      menu.open = !menu.open;
      if (menu.open) menu.querySelector('button')?.focus();
      return;
    }
    control.click();
  }

  function updateCount() {
    const boxes = [...list.querySelectorAll('.row-select')];
    const n = boxes.filter((b) => b.checked).length;
    if (counter) counter.textContent = n === 0 ? '' : `${n} selected`;
    if (selectAll) {
      selectAll.checked = n > 0 && n === boxes.length;
      selectAll.indeterminate = n > 0 && n < boxes.length;
    }
  }

  function toggleSelect() {
    const box = currentRow()?.querySelector('.row-select');
    if (!box) return;
    box.checked = !box.checked;
    updateCount();
  }

  // Fields where a letter is text, not a command. Checkboxes and buttons are not typed into.
  const TEXT_INPUTS = /^(text|search|email|url|tel|password|number|date|datetime-local|month|week|time)$/;
  function typing(target) {
    if (!(target instanceof HTMLElement)) return false;
    if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
    return target.tagName === 'INPUT' && TEXT_INPUTS.test(target.type || 'text');
  }

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (help && help.open) return; // the dialog has its own keys (Escape)
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'e':
      case 'u':
      case 's': press(e.key); break;
      case 'x': toggleSelect(); break;
      case '/': {
        const search = document.querySelector('[data-inbox-search]');
        if (!search) return;
        search.focus();
        break;
      }
      case '?': help?.showModal(); break;
      default: return;
    }
    e.preventDefault();
  });

  // A group line's "Show all" loads its members in place (the link alone is a page of them, without JavaScript);
  // pressed again it folds them away. "More of this group" replaces itself with the next members (keyset).
  // Handled here rather than with hx-get: group lines are pushed too, and pushed markup carries no nonce.
  list.addEventListener('click', (e) => {
    const link = e.target instanceof Element && e.target.closest('a[data-group-expand], a[data-group-more]');
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || !window.htmx) return;
    e.preventDefault();
    if (link.matches('[data-group-more]')) {
      htmx.ajax('GET', link.getAttribute('href'), { target: link.parentElement, swap: 'outerHTML' });
      return;
    }
    const box = document.getElementById(link.getAttribute('aria-controls'));
    if (!box) return;
    if (link.getAttribute('aria-expanded') === 'true') {
      box.replaceChildren();
      link.setAttribute('aria-expanded', 'false');
      return;
    }
    link.setAttribute('aria-expanded', 'true');
    htmx.ajax('GET', link.getAttribute('href'), { target: box, swap: 'innerHTML' });
  });

  // A click in a row makes it the current one, so the keys continue from where the pointer was.
  list.addEventListener('click', (e) => {
    const row = e.target instanceof Element && e.target.closest('.notification-card');
    if (row && row !== current) setCurrent(row);
  });
  list.addEventListener('change', (e) => {
    if (e.target instanceof Element && e.target.matches('.row-select')) updateCount();
  });
  selectAll?.addEventListener('change', () => {
    for (const b of list.querySelectorAll('.row-select')) if (b.closest('.notification-card').getClientRects().length > 0) b.checked = selectAll.checked;
    updateCount();
  });
  // After a bulk action the selection is spent: rows that stay are unselected again.
  bulk?.addEventListener('htmx:after:request', () => {
    for (const b of list.querySelectorAll('.row-select')) b.checked = false;
    updateCount();
  });
  // Rows leave (done elsewhere) and arrive (pushed) at any time: the count follows.
  new MutationObserver(updateCount).observe(list, { childList: true });
})();
