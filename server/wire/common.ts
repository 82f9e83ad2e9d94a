import { z } from 'zod';

/** The pieces every wire schema is made of. */
export const int = z.number().int();
export const timestamp = z.iso.datetime();

/** True when A and B are the same type (each assignable to the other). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * `assertSame<Same<z.output<typeof X>, T>>()` fails `tsc` when a documented shape and the type a service answers
 * drift apart: for the shapes whose type is a service's own (preferences, deliveries, admin stats).
 */
export function assertSame<T extends true>(): T | void {}
