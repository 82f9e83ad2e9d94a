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
 * Tabs through the first `count` focusable elements and reports each whose focus is not clearly visible: no
 * outline of at least 2 px in a colour at least 60% opaque.
 */
export async function focusFindings(page: Page, count = 10): Promise<Findings> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const found: Findings = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const width = parseFloat(s.outlineWidth) || 0;
      // A faint ring (a 20% halo, say) is as good as none.
      const alpha = /rgba\(.*,\s*([\d.]+)\)$/.exec(s.outlineColor);
      const transparent = s.outlineColor === 'transparent' || (!!alpha && Number(alpha[1]) < 0.6);
      const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
      // A focused Material form field draws its own ring: its outline turns 2 px and primary-coloured.
      const field = !!el.closest('.mat-mdc-form-field.mat-focused');
      const ok = field || (s.outlineStyle !== 'none' && width >= 2 && !transparent);
      return { name, ok, style: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}` };
    });
    if (f && !f.ok) found.push(`no visible focus ring on ${f.name} (outline: ${f.style})`);
  }
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  return found;
}

/**
 * One page at one width: axe, no sideways scroll and a screenshot in test-artifacts/. Each
 * finding is prefixed with the page's name so one failed expectation lists every page's problems at once.
 */
export async function auditPage(page: Page, name: string, opts: { focus?: boolean } = {}): Promise<Findings> {
  const width = page.viewportSize()?.width ?? 0;
  // Judge what a person sees once things stop moving (a snack bar fading in has no contrast yet).
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, { timeout: 5_000 }).catch(() => undefined);
  const found = [...(await axeFindings(page))];
  found.push(...(await overflowFindings(page)));
  if (opts.focus) found.push(...(await focusFindings(page)));
  await screenshot(page, `walk-${name}-${width}`);
  return found.map((f) => `${name} @${width}: ${f}`);
}
