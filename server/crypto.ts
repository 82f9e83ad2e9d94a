import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a secret a client presented equals the expected one, in time that does not depend on where they differ
 * (CSRF tokens, the metrics bearer, unsubscribe signatures). Lengths are compared first, as `timingSafeEqual` throws
 * on a mismatch; a secret's length is not itself secret here.
 */
export function sameSecret(given: Buffer | string, expected: Buffer | string): boolean {
  const a = typeof given === 'string' ? Buffer.from(given) : given;
  const b = typeof expected === 'string' ? Buffer.from(expected) : expected;
  return a.length === b.length && timingSafeEqual(a, b);
}
