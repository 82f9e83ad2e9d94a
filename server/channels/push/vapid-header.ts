import webPush from 'web-push';

/** Signed for 12 hours (RFC 8292 §2 allows at most 24), renewed after one: a push service never sees one near expiry. */
const LIFETIME_S = 12 * 3600;
const RENEW_AFTER_MS = 3600_000;
/** Endpoints are user-chosen, so origins are not bounded by us: past this many the cache starts over. */
const MAX_ENTRIES = 1000;

/**
 * The VAPID `Authorization` header per push service origin. `web-push` signs a new ES256 JWT for every push,
 * which costs more than encrypting it; the claims (`aud` = the origin, `exp`, `sub`) are the same for every push
 * to one push service, so one signature serves them all for an hour.
 */
export class VapidHeaders {
  readonly #cache = new Map<string, { value: string; renewAt: number }>();

  get(origin: string, vapid: { subject: string; publicKey: string; privateKey: string }): string {
    const key = `${vapid.publicKey} ${origin}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.renewAt > now) return hit.value;
    const exp = Math.floor(now / 1000) + LIFETIME_S;
    const { Authorization } = webPush.getVapidHeaders(origin, vapid.subject, vapid.publicKey, vapid.privateKey, 'aes128gcm', exp);
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(key, { value: Authorization, renewAt: now + RENEW_AFTER_MS });
    return Authorization;
  }
}
