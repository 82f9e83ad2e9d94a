import { computed, linkedSignal, Resource, Signal } from '@angular/core';

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
