import { segments } from './highlight';

describe('segments', () => {
  const marked = (text: string, words: string[]) =>
    segments(text, words)
      .filter((s) => s.mark)
      .map((s) => s.text);

  it('marks words where a word starts, whatever the case, and keeps every character', () => {
    const parts = segments('Welcome, unwelcome WELCOMED guest', ['welcome']);
    expect(parts.map((p) => p.text).join('')).toBe('Welcome, unwelcome WELCOMED guest');
    expect(marked('Welcome, unwelcome WELCOMED guest', ['welcome'])).toEqual(['Welcome', 'WELCOME']);
  });

  it('prefers the longer of two overlapping words, and treats RegExp characters as text', () => {
    expect(marked('zebra crossing', ['cross', 'crossing'])).toEqual(['crossing']);
    expect(marked('a.b (c) a+b axb', ['a.b', '(c)'])).toEqual(['a.b', '(c)']);
  });

  it('returns the text whole without words', () => {
    expect(segments('plain', [])).toEqual([{ text: 'plain', mark: false }]);
  });
});
