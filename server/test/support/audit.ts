import axe from 'axe-core';
import type { Page } from 'playwright-core';
import { screenshot } from './browser';

/** What one look at one page found; empty means the page passed. */
export type Findings = string[];

/** Moderate rules held to zero as well: issue 16 names heading order, and a page needs its one h1. */
const ALSO = new Set(['heading-order', 'page-has-heading-one', 'landmark-unique']);

/**
 * Runs axe-core (its default rules) on the page as it stands and returns each serious or critical violation (and
 * those of ALSO; every violation with AXE_ALL=1 in the environment, to see what else there is) as `rule: target`
 * lines. axe's source is evaluated through the DevTools protocol, which the page's CSP does not
 * govern, so injecting it causes no violation of its own.
 */
export async function axeFindings(page: Page): Promise<Findings> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const w = window as unknown as { axe: typeof axe };
    const result = await w.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || ALSO.has(v.id) || !!process.env.AXE_ALL)
    .map((v) => `${v.id} (${v.impact}): ${v.targets.slice(0, 4).join(' | ')}${v.targets.length > 4 ? ' …' : ''}`);
}

/** The page must not scroll sideways: its content fits the window's width. */
export async function overflowFindings(page: Page): Promise<Findings> {
  const { scroll, width, wide } = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    // The widest offenders, to say where to look.
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest('[data-scroll-x], .table-wrap, .nav'))
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}.${[...e.classList].join('.')}`);
    return { scroll: document.documentElement.scrollWidth, width, wide };
  });
  return scroll > width ? [`page is ${scroll} px wide in a ${width} px window (${wide.join(', ')})`] : [];
}

/**
 * The console's toolbar, fully there (issue 16.3: it was cut off at 390 px): the bar inside the window and not
 * clipping its own content, and each control it shows (menu, live state, theme, account) inside the window and
 * hit-testable at its centre, i.e. a click there reaches it and not something drawn over or clipping it.
 */
export async function toolbarFindings(page: Page): Promise<Findings> {
  return page.evaluate(() => {
    const found: string[] = [];
    const bar = document.querySelector('header.topbar .mat-toolbar');
    if (!bar) return ['no console toolbar'];
    const vw = document.documentElement.clientWidth;
    const vh = window.innerHeight;
    const b = bar.getBoundingClientRect();
    if (b.left < -0.5 || b.right > vw + 0.5) found.push(`toolbar spans ${Math.round(b.left)} to ${Math.round(b.right)} px in a ${vw} px window`);
    if (bar.scrollWidth > bar.clientWidth + 1) found.push(`toolbar content is ${bar.scrollWidth} px wide in its ${bar.clientWidth} px (cut off)`);
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.classList.length ? `.${[...el.classList].slice(0, 2).join('.')}` : ''} "${(el.getAttribute('aria-label') || (el as HTMLElement).innerText || '').trim().slice(0, 30)}"`;
    // What the bar shows: controls with a box (the desktop nav is display:none on a phone, and has none).
    const controls = [...bar.querySelectorAll('a[href], button, [tabindex="0"]')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    });
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.left < -0.5 || r.right > vw + 0.5 || r.top < -0.5 || r.bottom > vh + 0.5) {
        found.push(`toolbar control ${name(el)} at ${Math.round(r.left)}-${Math.round(r.right)} px is outside the ${vw} px window`);
        continue;
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || !el.contains(hit)) found.push(`toolbar control ${name(el)} is covered or clipped (a click at its centre reaches ${hit ? name(hit) : 'nothing'})`);
    }
    // The ones a phone needs, so a bar that hid its controls would not pass for a tidy one.
    for (const [what, sel] of [
      ['navigation menu or links', 'button[aria-label="Menu"], nav.nav a'],
      ['live state', '.live'],
      ['theme switch', 'button[aria-label*="theme"]'],
      ['account menu', 'button.user'],
    ]) {
      if (!controls.some((el) => el.matches(sel))) found.push(`toolbar shows no ${what}`);
    }
    return found;
  });
}

/**
 * A button-toggle group laid out as a tidy grid (issue 16.3: the compose audience toggle wrapped badly at
 * 390 px): inside the window and its group, no two toggles overlapping, no label spilling out of its toggle, and
 * the cells in full rows and columns of one size (a lone toggle on a row of its own, or a wider one, is not).
 */
export async function toggleGridFindings(page: Page, group: string): Promise<Findings> {
  return page.evaluate((sel) => {
    const found: string[] = [];
    const g = document.querySelector(sel);
    if (!g) return [`no toggle group ${sel}`];
    const vw = document.documentElement.clientWidth;
    const gr = g.getBoundingClientRect();
    if (gr.left < -0.5 || gr.right > vw + 0.5) found.push(`toggle group spans ${Math.round(gr.left)} to ${Math.round(gr.right)} px in a ${vw} px window`);
    const toggles = [...g.querySelectorAll('mat-button-toggle')];
    const rects = toggles.map((t) => t.getBoundingClientRect());
    const label = (i: number) => `"${(toggles[i] as HTMLElement).innerText.trim()}"`;
    rects.forEach((r, i) => {
      if (r.left < gr.left - 0.5 || r.right > gr.right + 0.5 || r.top < gr.top - 0.5 || r.bottom > gr.bottom + 0.5) found.push(`toggle ${label(i)} sticks out of its group`);
      const button = toggles[i].querySelector('button');
      const content = toggles[i].querySelector('.mat-button-toggle-label-content');
      if (button && button.scrollWidth > button.clientWidth + 1) found.push(`toggle ${label(i)} overflows: ${button.scrollWidth} px of content in ${button.clientWidth} px`);
      const c = content?.getBoundingClientRect();
      if (c && (c.left < r.left - 0.5 || c.right > r.right + 0.5)) found.push(`toggle ${label(i)}'s label spills out of it`);
      for (let j = i + 1; j < rects.length; j++) {
        const o = rects[j];
        const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
        const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
        if (w > 1 && h > 1) found.push(`toggles ${label(i)} and ${label(j)} overlap`);
      }
    });
    const distinct = (xs: number[]) => [...new Set(xs.map((x) => Math.round(x)))];
    const lefts = distinct(rects.map((r) => r.left));
    const tops = distinct(rects.map((r) => r.top));
    const sizes = distinct(rects.map((r) => r.width)).concat(distinct(rects.map((r) => r.height)));
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    if (lefts.length * tops.length !== rects.length) found.push(`toggles in ${tops.length} rows and ${lefts.length} columns: not a full grid of ${rects.length}`);
    if (spread(rects.map((r) => r.width)) > 1 || spread(rects.map((r) => r.height)) > 1) found.push(`toggles of different sizes (${sizes.join(', ')} px)`);
    return found;
  }, group);
}

/** Far more tab stops than any Herald page has; only a focus trap that never repeats itself would reach it. */
export const MAX_TAB_STOPS = 200;
/** Tab presses between two looks at the page: fewer round trips, a few presses past the end at most. */
const TAB_BATCH = 10;

/**
 * Tabs through every focusable element of the page (until focus comes back to one it already visited, or
 * `cap` stops) and reports each whose focus is not clearly visible: no outline of at least 2 px in a colour at
 * least 60% opaque. Each stop is judged by a `focusin` listener the moment it gets focus (the style is computed
 * then, with :focus-visible applied), so the walk itself is only key presses.
 */
export async function focusFindings(page: Page, cap = MAX_TAB_STOPS): Promise<Findings> {
  const started = Date.now();
  await page.evaluate((max) => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
    type Walk = { seen: Set<Element>; bad: string[]; stops: number; done: boolean };
    const w = window as unknown as { __heraldFocusWalk?: Walk; __heraldFocusListening?: boolean };
    w.__heraldFocusWalk = { seen: new Set(), bad: [], stops: 0, done: false };
    if (w.__heraldFocusListening) return;
    w.__heraldFocusListening = true;
    document.addEventListener(
      'focusin',
      (e) => {
        const walk = w.__heraldFocusWalk;
        const el = e.target as HTMLElement;
        if (!walk || walk.done || !(el instanceof HTMLElement)) return;
        // Back at a stop already seen: the walk has gone round the page once.
        if (walk.seen.has(el)) {
          walk.done = true;
          return;
        }
        walk.seen.add(el);
        walk.stops += 1;
        if (walk.stops >= max) walk.done = true;
        const s = getComputedStyle(el);
        const width = parseFloat(s.outlineWidth) || 0;
        // A faint ring (a 20% halo, say) is as good as none.
        const alpha = /rgba\(.*,\s*([\d.]+)\)$/.exec(s.outlineColor);
        const transparent = s.outlineColor === 'transparent' || (!!alpha && Number(alpha[1]) < 0.6);
        // A Material form field draws its own ring around its control (its outline turns 2 px and primary-coloured;
        // the console's styles.scss leaves the control itself without one). Only the control: a button beside it
        // in the field still needs its own ring. The field's .mat-focused class comes a tick later than focusin.
        const field = !!el.closest('.mat-mdc-form-field') && el.matches('input, textarea, .mat-mdc-select');
        if (field || (s.outlineStyle !== 'none' && width >= 2 && !transparent)) return;
        const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
        walk.bad.push(`no visible focus ring on ${name} (outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor})`);
      },
      true,
    );
  }, cap);
  for (let pressed = 0; pressed < cap + TAB_BATCH; pressed += TAB_BATCH) {
    for (let i = 0; i < TAB_BATCH; i++) await page.keyboard.press('Tab');
    if (await page.evaluate(() => (window as unknown as { __heraldFocusWalk: { done: boolean } }).__heraldFocusWalk.done)) break;
  }
  const walk = await page.evaluate(() => {
    const w = window as unknown as { __heraldFocusWalk: { bad: string[]; stops: number } };
    (document.activeElement as HTMLElement | null)?.blur();
    return { bad: w.__heraldFocusWalk.bad, stops: w.__heraldFocusWalk.stops };
  });
  focusStops.pages += 1;
  focusStops.stops += walk.stops;
  focusStops.ms += Date.now() - started;
  return walk.bad;
}

/** How many pages and tab stops the focus walks of this test file looked at, in how long (the walkthrough reports it). */
export const focusStops = { pages: 0, stops: 0, ms: 0 };

/**
 * One page at one width: axe, no sideways scroll and a screenshot in test-artifacts/. Each
 * finding is prefixed with the page's name so one failed expectation lists every page's problems at once.
 */
export async function auditPage(page: Page, name: string, opts: { focus?: boolean } = {}): Promise<Findings> {
  const width = page.viewportSize()?.width ?? 0;
  // Judge what a person sees once things stop moving (a snack bar fading in has no contrast yet). An endless
  // animation (an indeterminate progress bar) never stops: waiting for it only ran the 5 s out, page after page.
  await page
    .waitForFunction(
      () => document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity),
      undefined,
      { timeout: 5_000 },
    )
    .catch(() => undefined);
  const found = [...(await axeFindings(page))];
  found.push(...(await overflowFindings(page)));
  if (opts.focus) found.push(...(await focusFindings(page)));
  await screenshot(page, `walk-${name}-${width}`);
  return found.map((f) => `${name} @${width}: ${f}`);
}
