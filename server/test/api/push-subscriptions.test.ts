import { createECDH, randomBytes } from 'node:crypto';
import type { User } from '../../models';
import type { Resolver } from '../../outbound';
import { PushSubscriptions } from '../../services/push-subscriptions';
import { createApiContext, type ApiContext } from '../support/api';
import type { Agent } from '../support/harness';

/**
 * The subscription API. Names resolve through a stub and nothing is ever sent: storing a subscription makes no
 * request, and the refusals are decided from the URL and the stubbed addresses alone.
 */
let ctx: ApiContext;
let alice: User;
let bob: User;
let asAlice: Agent;
let asBob: Agent;

const resolve: Resolver = async (host) => {
  const table: Record<string, string[]> = {
    'push.example.com': ['93.184.215.14'],
    'rebind.example.com': ['93.184.215.14', '10.0.0.7'],
  };
  if (!table[host]) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return table[host].map((address) => ({ address, family: 4 }));
};

beforeAll(async () => {
  ctx = await createApiContext();
  ctx.services.pushSubscriptions = new PushSubscriptions({ sequelize: ctx.sequelize, policy: { allowPrivate: false, resolve } });
  alice = await ctx.createUser('candidate');
  bob = await ctx.createUser('candidate');
  asAlice = await ctx.loginChecked(alice);
  asBob = await ctx.loginChecked(bob);
});
afterAll(() => ctx.close());

/** A subscription as a browser makes one: a P-256 key pair and a 16-byte auth secret. */
function browserSubscription(endpoint = `https://push.example.com/send/${randomBytes(8).toString('hex')}`) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    expirationTime: null,
  };
}

test('the VAPID public key is one uncompressed P-256 point, the same every time and kept in the database', async () => {
  const first = await asAlice.get('/api/push/vapid-public-key').expect(200);
  expect(Buffer.from(first.body.key, 'base64url')).toHaveLength(65);
  const again = await asBob.get('/api/push/vapid-public-key/').expect(200);
  expect(again.body.key).toBe(first.body.key);
  const [rows] = await ctx.sequelize.query(`SELECT value->>'publicKey' AS key FROM settings WHERE key = 'vapid_keys'`);
  expect(rows).toEqual([{ key: first.body.key }]);
});

test('the key needs a signed-in user', async () => {
  const anon = await ctx.anonymous();
  await anon.get('/api/push/vapid-public-key').expect(401);
});

test('subscribing stores the device; the same endpoint again updates it and keeps its id', async () => {
  const sub = browserSubscription();
  const created = await asAlice.post('/api/push/subscriptions/', sub).set('User-Agent', 'Chromium test').expect(201);
  expect(created.body).toEqual({ id: expect.any(Number) });

  const rotated = { ...browserSubscription(sub.endpoint), expirationTime: Date.now() + 86_400_000 };
  const updated = await asAlice.post('/api/push/subscriptions/', rotated).expect(200);
  expect(updated.body.id).toBe(created.body.id);

  const list = await asAlice.get('/api/push/subscriptions/').expect(200);
  const mine = list.body.results.filter((d: { endpoint: string }) => d.endpoint === sub.endpoint);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ id: created.body.id, last_success_at: null });
  expect(mine[0].expiration_time).not.toBeNull();
  const [[row]] = (await ctx.sequelize.query('SELECT p256dh, auth FROM push_subscriptions WHERE id = :id', {
    replacements: { id: created.body.id },
  })) as [Array<{ p256dh: string; auth: string }>, unknown];
  expect(row).toEqual(rotated.keys);
});

test('an endpoint sent by another user moves to them (one subscription per browser, whoever is signed in)', async () => {
  const sub = browserSubscription();
  const first = await asAlice.post('/api/push/subscriptions/', sub).expect(201);
  await asBob.post('/api/push/subscriptions/', sub).expect(200);
  const alices = (await asAlice.get('/api/push/subscriptions/').expect(200)).body.results.map((d: { id: number }) => d.id);
  const bobs = (await asBob.get('/api/push/subscriptions/').expect(200)).body.results.map((d: { id: number }) => d.id);
  expect(alices).not.toContain(first.body.id);
  expect(bobs).toContain(first.body.id);
});

test.each([
  ['http://push.example.com/send/1', 'plain http'],
  ['https://127.0.0.1/send/1', 'loopback'],
  ['https://10.1.2.3/send/1', 'a private address'],
  ['https://[::1]/send/1', 'IPv6 loopback'],
  ['https://169.254.169.254/latest/meta-data', 'the metadata address'],
  ['https://rebind.example.com/send/1', 'a name with one private address'],
  ['https://nowhere.example.com/send/1', 'a name that does not resolve'],
  ['https://user:pw@push.example.com/send/1', 'credentials in the URL'],
])('%s is refused with forbidden_target (%s) and nothing is stored', async (endpoint) => {
  const res = await asAlice.post('/api/push/subscriptions/', browserSubscription(endpoint)).expect(400);
  expect(res.body.error.code).toBe('forbidden_target');
  const [rows] = await ctx.sequelize.query('SELECT 1 FROM push_subscriptions WHERE endpoint = :endpoint', { replacements: { endpoint } });
  expect(rows).toHaveLength(0);
});

test('keys that are not a P-256 point and a 16-byte secret are a 400 naming the field', async () => {
  const sub = browserSubscription();
  const res = await asAlice.post('/api/push/subscriptions/', { ...sub, keys: { ...sub.keys, auth: 'c2hvcnQ' } }).expect(400);
  expect(JSON.stringify(res.body.error)).toContain('auth');
  await asAlice.post('/api/push/subscriptions/', { endpoint: sub.endpoint }).expect(400);
});

test('a device is removed by its owner; to anybody else it is not found', async () => {
  const { body } = await asAlice.post('/api/push/subscriptions/', browserSubscription()).expect(201);
  await asBob.delete(`/api/push/subscriptions/${body.id}/`).expect(404);
  await asAlice.delete(`/api/push/subscriptions/${body.id}/`).expect(204);
  await asAlice.delete(`/api/push/subscriptions/${body.id}/`).expect(404);
});
