import { computed, linkedSignal, Resource, Signal, signal, WritableSignal } from '@angular/core';
import { PageEvent } from '@angular/material/paginator';

/**
 * The resource's last good value. A resource drops its value while a new request loads, which
 * would blank a table on every page change; this keeps the old rows until the new ones arrive.
 */
export function lastValue<T>(resource: Resource<T | undefined>): Signal<T | undefined> {
  const current = computed(() => (resource.hasValue() ? resource.value() : undefined));
  return linkedSignal<T | undefined, T | undefined>({
    source: current,
    computation: (value, previous) => value ?? previous?.value,
  });
}

/** Query parameters without the empty ones, so the server sees only filters the user set. */
export function queryParams(
  values: Record<string, string | number | null | undefined>,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/**
 * Server-side paging state for a table: the page size, and the page index, which goes back to the first page
 * whenever what is being paged (`resetWhen`: filters, sort) or the page size changes.
 */
export class Pager {
  readonly size = signal(25);
  readonly index: WritableSignal<number>;

  constructor(resetWhen: () => unknown) {
    this.index = linkedSignal({ source: () => [resetWhen(), this.size()], computation: () => 0 });
  }

  /** The paginator's event: a new size restarts at page one (via the link above), otherwise go to the page. */
  onPage(event: PageEvent): void {
    if (event.pageSize !== this.size()) this.size.set(event.pageSize);
    else this.index.set(event.pageIndex);
  }
}
