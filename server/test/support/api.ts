import { QueryTypes } from 'sequelize';
import type { Course, User } from '../../models';
import { Contract } from './contract';
import { createTestContext, type Agent, type TestContext } from './harness';
import { withContent } from './content';

/** A user and their logged-in agent. */
export interface Party {
  user: User;
  agent: Agent;
}

/**
 * The test context the API test files share: the served OpenAPI document loaded as the contract, so that every
 * answer an agent from `loginChecked` or `party` receives is checked against what the document promises.
 */
export interface ApiContext extends TestContext {
  contract: Contract;
  /** `login`, with every answer checked against the contract. */
  loginChecked(user: User): Promise<Agent>;
  /** A new user of `role` (see `createUser`) with a checked agent. */
  party(role: Parameters<TestContext['createUser']>[0], attrs?: Parameters<TestContext['createUser']>[1]): Promise<Party>;
}

/** `createTestContext` plus the contract; close it with `close()` in afterAll like any test context. */
export async function createApiContext(opts?: Parameters<typeof createTestContext>[0]): Promise<ApiContext> {
  const ctx = await createTestContext(opts);
  const contract = await Contract.load(ctx.app);
  const loginChecked = async (user: User) => contract.wrap(await ctx.login(user));
  return Object.assign(ctx, {
    contract,
    loginChecked,
    async party(role: Parameters<TestContext['createUser']>[0], attrs?: Parameters<TestContext['createUser']>[1]) {
      const user = await ctx.createUser(role, attrs);
      return { user, agent: await loginChecked(user) };
    },
  });
}

/** The notification rows a user received, oldest first, in the columns the API tests compare. */
export function notificationsOf(ctx: TestContext, user: User) {
  return ctx.sequelize.query<Record<string, unknown>>(
    `SELECT type, title, message, data, sender_id, application_id, course_id, read_at FROM ${withContent()} WHERE recipient_id = :id ORDER BY id`,
    { replacements: { id: user.id }, type: QueryTypes.SELECT },
  );
}

export async function isEnrolled(ctx: TestContext, course: Course, user: User): Promise<boolean> {
  return (await ctx.models.Enrollment.count({ where: { courseId: course.id, studentId: user.id } })) === 1;
}

/**
 * Makes every insert of a notification for `recipientId` fail inside PostgreSQL, to prove that what was written
 * with it rolls back. Call the returned function (in a `finally`) to remove the fault.
 */
export async function refuseNotificationsTo(ctx: TestContext, recipientId: number): Promise<() => Promise<void>> {
  await ctx.sequelize.query(`
    CREATE FUNCTION test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.recipient_id = ${Number(recipientId)} THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER test_refuse_one BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION test_refuse_one();
  `);
  return async () => {
    await ctx.sequelize.query('DROP TRIGGER test_refuse_one ON notifications; DROP FUNCTION test_refuse_one();');
  };
}
