import { NOTIFICATION_TYPES, type NotificationType } from '../../models';

/** What a search box holds, taken apart: the text to search, and `type:x` / `-type:x` filters typed among it. */
export interface ParsedSearch {
  text: string;
  types: NotificationType[];
  excludeTypes: NotificationType[];
}

const KNOWN = new Set<string>(NOTIFICATION_TYPES);
const TYPE_TOKEN = /(^|\s)(-?)type:(\S+)/gi;

/**
 * `application -type:announcement type:message` → text "application", types [message], excluded [announcement].
 * A token may list several types (`-type:a,b`). Unknown type names are dropped rather than refused: a search box
 * answers what it can. Everything else is the text, searched with PostgreSQL's websearch syntax.
 */
export function parseSearch(q: string | undefined): ParsedSearch {
  const out: ParsedSearch = { text: '', types: [], excludeTypes: [] };
  if (!q) return out;
  out.text = q
    .replace(TYPE_TOKEN, (_m, lead: string, minus: string, names: string) => {
      for (const name of names.toLowerCase().split(',')) {
        if (KNOWN.has(name)) (minus ? out.excludeTypes : out.types).push(name as NotificationType);
      }
      return lead;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return out;
}

/** The words of the search text, for highlighting what matched (quotes and websearch operators left out). */
export function searchWords(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s"]+/)
        .filter((w) => w && !w.startsWith('-') && w.toLowerCase() !== 'or')
        .map((w) => w.replace(/[^\p{L}\p{N}'-]/gu, ''))
        .filter((w) => w.length >= 2),
    ),
  ].slice(0, 10);
}
