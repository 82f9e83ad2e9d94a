import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

/** A piece of text, marked when it is one of the searched words. */
export interface Segment {
  text: string;
  mark: boolean;
}

/**
 * `text` cut where a searched word starts a word, as the inbox page marks its results (server/web/render.ts):
 * the server's `words` are letters, digits, apostrophes and hyphens, but they are escaped for the RegExp anyway.
 */
export function segments(text: string, words: readonly string[]): Segment[] {
  const wanted = words.filter((w) => w.length > 0).map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  if (wanted.length === 0 || !text) return [{ text, mark: false }];
  // Longest first, so "crossing" wins over "cross" where both were searched.
  wanted.sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(${wanted.join('|')})`, 'giu');
  const out: Segment[] = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index), mark: false });
    out.push({ text: m[0], mark: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}

/**
 * Text with the searched words in `<mark>`. Each piece is an interpolation, never HTML: user text stays text.
 */
@Component({
  selector: 'herald-highlight',
  template: `@for (s of parts(); track $index) {@if (s.mark) {<mark>{{ s.text }}</mark>} @else {<span>{{ s.text }}</span>}}`,
  styles: `
    mark {
      background: var(--mat-sys-tertiary-container);
      color: var(--mat-sys-on-tertiary-container);
      border-radius: 2px;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Highlight {
  readonly text = input.required<string>();
  readonly words = input<readonly string[]>([]);
  protected readonly parts = computed(() => segments(this.text(), this.words()));
}
