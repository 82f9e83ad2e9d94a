import webPush from 'web-push';
import { VapidHeaders } from '../../../channels/push/vapid-header';
import { checkVapid } from '../../support/push-service';

/** One signature per push service origin, reused: the claims are the same for every push to it. */
const keys = { ...webPush.generateVAPIDKeys(), subject: 'mailto:admin@example.org' };

test('the same origin reuses one signed header; another origin or key gets its own; each checks out for 12 h', () => {
  const headers = new VapidHeaders();
  const a = headers.get('https://push.example.org', keys);
  expect(headers.get('https://push.example.org', keys)).toBe(a);
  const b = headers.get('https://other.example.net', keys);
  expect(b).not.toBe(a);
  const other = { ...webPush.generateVAPIDKeys(), subject: keys.subject };
  expect(headers.get('https://push.example.org', other)).not.toBe(a);

  const claims = checkVapid(a, keys.publicKey, 'https://push.example.org');
  expect(claims.sub).toBe(keys.subject);
  expect(claims.exp - Date.now() / 1000).toBeGreaterThan(11 * 3600);
});
