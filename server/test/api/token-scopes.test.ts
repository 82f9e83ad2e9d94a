import request from 'supertest';
import type { User } from '../../models';
import { SCOPES, type Scope } from '../../services/tokens';
import { createApiContext, type ApiContext } from '../support/api';

let ctx: ApiContext;
let admin: User;

beforeAll(async () => {
  ctx = await createApiContext();
  // An admin owns the tokens: its role passes every role rule, so only the scope can refuse.
  admin = await ctx.createUser('admin');
});
afterAll(() => ctx.close());

const tokens = new Map<string, string>();
/** One token per set of scopes, minted once. */
async function tokenWith(scopes: readonly Scope[]): Promise<string> {
  const key = [...scopes].sort().join(' ');
  let token = tokens.get(key);
  if (!token) {
    token = (await ctx.services.tokens.create(admin, { name: key, scopes: [...scopes], expiresInDays: null })).token;
    tokens.set(key, token);
  }
  return token;
}

/** Calls an operation with nothing but the token: no cookie, no CSRF token; ids that exist nowhere. */
function call(method: string, path: string, token: string) {
  const url = path.replace(/\{\w+\}/g, '999999');
  const r = request(ctx.app) as unknown as Record<string, (u: string) => request.Test>;
  return r[method](url).set('Authorization', `Bearer ${token}`);
}

/** Got past authentication and authorisation: whatever the handler then said (404 for the made-up ids, 400...). */
const passed = (res: request.Response) => res.status !== 401 && res.status !== 403;

describe('every operation, with a bearer token', () => {
  const ops = () => ctx.contract.operations().filter(({ op }) => op['x-access'] !== 'anyone');

  test('the document declares each operation’s scopes and the matching security requirements', () => {
    for (const { method, path, op } of ctx.contract.operations()) {
      const scopes = op['x-scopes'] as Scope[] | 'session';
      const bearer = (op.security as Array<Record<string, string[]>>).filter((s) => 'bearer' in s);
      if (op['x-access'] === 'anyone') expect([method, path, scopes]).toEqual([method, path, []]);
      else if (scopes === 'session') expect([method, path, bearer]).toEqual([method, path, []]);
      else if (scopes.length === 0) expect([method, path, bearer]).toEqual([method, path, [{ bearer: [] }]]);
      else expect([method, path, bearer]).toEqual([method, path, scopes.map((s) => ({ bearer: [s] }))]);
    }
    expect(ctx.contract.doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  test('is allowed with each of its scopes, and 403 insufficient_scope without them', async () => {
    let allowed = 0;
    let refused = 0;
    for (const { method, path, op } of ops()) {
      const scopes = op['x-scopes'] as Scope[] | 'session';
      const others = SCOPES.filter((s) => scopes === 'session' || !scopes.includes(s));
      for (const scope of scopes === 'session' ? [] : scopes) {
        const res = await call(method, path, await tokenWith([scope]));
        expect([method, path, scope, passed(res)]).toEqual([method, path, scope, true]);
        allowed += 1;
      }
      if (scopes !== 'session' && scopes.length === 0) {
        // Any valid token may call it, whatever its scopes.
        const res = await call(method, path, await tokenWith(['notifications:read']));
        expect([method, path, passed(res)]).toEqual([method, path, true]);
        continue;
      }
      const res = await call(method, path, await tokenWith(others));
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 403, 'insufficient_scope']);
      refused += 1;
    }
    expect(allowed).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(30);
  });

  test('the owner’s role still applies: an instructor’s token cannot reach the admin API', async () => {
    const instructor = await ctx.createUser('instructor');
    const { token } = await ctx.services.tokens.create(instructor, { name: 'x', scopes: ['courses:notify'], expiresInDays: null });
    await request(ctx.app).get('/api/admin/stats/').set('Authorization', `Bearer ${token}`).expect(403);
  });
});
