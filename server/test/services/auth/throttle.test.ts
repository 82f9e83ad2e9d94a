import request from 'supertest';
import type { User } from '../../../models';
import { createTestContext, PASSWORD, type TestContext } from '../../support/harness';

/**
 * Issues 10.3 and 10.4: login throttling as OWASP's authentication guidance has it. Failures slow down the
 * (account, address) pair and the address; the account as a whole only far past what one address can do; a
 * correct password never spends the failure budget. The app trusts one proxy hop here, so X-Forwarded-For
 * picks each request's address.
 */

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ env: { TRUST_PROXY: 'true' } });
});
afterAll(() => ctx.close());
beforeEach(() => ctx.sequelize.query('DELETE FROM login_throttle'));

let addressSeq = 0;
/** A fresh address from a documentation range (TEST-NET-3), so no two tests share a source. */
const freshAddress = () => `203.0.113.${(addressSeq += 1)}`;

async function attempt(from: string, email: string, password: string) {
  const http = request.agent(ctx.app);
  const { body } = await http.get('/api/auth/csrf').set('X-Forwarded-For', from).expect(200);
  return http.post('/api/auth/login').set('X-Forwarded-For', from).set('X-CSRF-Token', body.csrf_token).send({ email, password });
}

async function pageAttempt(from: string, email: string, password: string) {
  const http = request.agent(ctx.app);
  const { body } = await http.get('/api/auth/csrf').set('X-Forwarded-For', from).expect(200);
  const form = new URLSearchParams({ email, password, _csrf: body.csrf_token }).toString();
  return http.post('/login').set('X-Forwarded-For', from).type('form').send(form);
}

/** Ends the failing place's current wait at once, instead of sleeping through it. */
const skipWaits = () => ctx.sequelize.query('UPDATE login_throttle SET blocked_until = now() WHERE blocked_until > now()');

const statuses = (responses: request.Response[]) => responses.map((r) => r.status).sort();

describe('10.3 anyone can lock any account out', () => {
  test('five wrong passwords from one place do not refuse the owner’s right password from another', async () => {
    const owner = await ctx.createUser('candidate');
    const attacker = freshAddress();
    for (let i = 0; i < 5; i += 1) expect((await attempt(attacker, owner.email, `wrong-${i}`)).status).toBe(401);
    const slowed = await attempt(attacker, owner.email, 'wrong-again');
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers['retry-after'])).toBeGreaterThan(0);
    expect(slowed.body.error).toMatchObject({ code: 'too_many_requests', details: { retry_after: expect.any(Number) } });

    const started = Date.now();
    expect((await attempt(freshAddress(), owner.email, PASSWORD)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);

    // The page's login form shares the throttle: the failing place is told to wait, another place logs in.
    const form = await pageAttempt(attacker, owner.email, PASSWORD);
    expect(form.status).toBe(429);
    expect(form.text).toMatch(new RegExp(`Try again in ${form.headers['retry-after']} seconds`));
    expect((await pageAttempt(freshAddress(), owner.email, PASSWORD)).status).toBe(303);
  });

  test('the failing place waits growing delays of at most a minute each, even for the right password', async () => {
    const owner = await ctx.createUser('candidate');
    const attacker = freshAddress();
    for (let i = 0; i < 5; i += 1) await attempt(attacker, owner.email, 'wrong');
    const waits: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      const refused = await attempt(attacker, owner.email, PASSWORD); // refused unchecked while the wait lasts
      expect(refused.status).toBe(429);
      waits.push(Number(refused.headers['retry-after']));
      await skipWaits();
      expect((await attempt(attacker, owner.email, 'wrong')).status).toBe(401);
    }
    for (let i = 1; i < waits.length; i += 1) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]);
    expect(waits[0]).toBeLessThan(waits[3]);
    expect(Math.max(...waits)).toBe(60);

    // Once the wait is over the right password works from there too, and the pair starts afresh.
    await skipWaits();
    expect((await attempt(attacker, owner.email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i += 1) expect((await attempt(attacker, owner.email, 'wrong')).status).toBe(401);
  });

  test('a burst of parallel guesses gets exactly the free failures checked, however many arrive at once', async () => {
    const owner = await ctx.createUser('candidate');
    const attacker = freshAddress();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(attacker, owner.email, `guess-${i}`)));
    expect(statuses(answers)).toEqual([...Array(5).fill(401), ...Array(15).fill(429)]);
  });

  test('an address that sprays many accounts is slowed down for every account; other addresses are not', async () => {
    const sprayer = freshAddress();
    const victim = await ctx.createUser('candidate');
    for (let i = 0; i < 30; i += 1) expect((await attempt(sprayer, `nobody${i}@spray.example`, 'x')).status).toBe(401);
    expect((await attempt(sprayer, `nobody-else@spray.example`, 'x')).status).toBe(429);
    expect((await attempt(sprayer, victim.email, PASSWORD)).status).toBe(429);
    expect((await attempt(freshAddress(), victim.email, PASSWORD)).status).toBe(200);
  });

  test('addresses in one IPv6 /64 count as one place', async () => {
    const owner = await ctx.createUser('candidate');
    for (let i = 0; i < 5; i += 1) expect((await attempt(`2001:db8:1:2::${i + 1}`, owner.email, 'wrong')).status).toBe(401);
    expect((await attempt('2001:db8:1:2:ffff::9', owner.email, PASSWORD)).status).toBe(429);
    expect((await attempt('2001:db8:1:3::1', owner.email, PASSWORD)).status).toBe(200);
  });

  test('last resort: 100 failures on one account from many addresses slow the account down everywhere', async () => {
    const owner = await ctx.createUser('candidate');
    // 25 addresses, 4 failures each: none of them is slowed down on its own.
    for (let a = 0; a < 25; a += 1) {
      const from = freshAddress();
      const answers = await Promise.all(Array.from({ length: 4 }, () => attempt(from, owner.email, 'wrong')));
      expect(statuses(answers)).toEqual([401, 401, 401, 401]);
    }
    const refused = await attempt(freshAddress(), owner.email, PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
  });
});

describe('10.4 correct logins at the same moment get 429', () => {
  test('eight simultaneous correct logins to one account: none refused', async () => {
    const user = await ctx.createUser('candidate');
    const from = freshAddress();
    expect(statuses(await Promise.all(Array.from({ length: 8 }, () => attempt(from, user.email, PASSWORD))))).toEqual(Array(8).fill(200));
  });

  test('forty simultaneous correct logins from one address (a classroom behind one NAT): none refused', async () => {
    const users: User[] = [];
    for (let i = 0; i < 40; i += 1) users.push(await ctx.createUser('candidate'));
    const classroom = freshAddress();
    const answers = await Promise.all(users.map((u) => attempt(classroom, u.email, PASSWORD)));
    expect(statuses(answers)).toEqual(Array(40).fill(200));
  });

  test('successful logins do not spend the failure budget', async () => {
    const user = await ctx.createUser('candidate');
    const from = freshAddress();
    for (let i = 0; i < 12; i += 1) expect((await attempt(from, user.email, PASSWORD)).status).toBe(200);
    // The whole free allowance is still there: five mistakes are five 401s, only the sixth attempt waits.
    for (let i = 0; i < 5; i += 1) expect((await attempt(from, user.email, 'typo')).status).toBe(401);
    expect((await attempt(from, user.email, PASSWORD)).status).toBe(429);
  });
});
