import { QueryTypes } from 'sequelize';
import { createSequelize } from '../../db';

/**
 * Herald's sessions run without JIT and with random_page_cost 1.1 (server/db/index.ts): a send to "everyone" on a
 * million users estimates a cost that makes PostgreSQL compile its plan, 25-30 ms for a statement that itself takes
 * 5, and a disk's seek cost made a course fan-out scan a million users three times. An operator's PGOPTIONS comes
 * after Herald's own and wins.
 */
const url = process.env.HERALD_TEST_PG_URL!; // the suite's PostgreSQL (global-setup.ts), its postgres database

async function settings(): Promise<{ jit: string; random_page_cost: string }> {
  const sequelize = createSequelize({ url });
  try {
    const [row] = await sequelize.query<{ jit: string; random_page_cost: string }>(
      "SELECT current_setting('jit') AS jit, current_setting('random_page_cost') AS random_page_cost",
      { type: QueryTypes.SELECT },
    );
    return row;
  } finally {
    await sequelize.close();
  }
}

test('sessions run with JIT off and random_page_cost 1.1, and PGOPTIONS can set them back', async () => {
  const before = process.env.PGOPTIONS;
  try {
    delete process.env.PGOPTIONS;
    expect(await settings()).toEqual({ jit: 'off', random_page_cost: '1.1' });
    process.env.PGOPTIONS = '-c jit=on -c random_page_cost=4';
    expect(await settings()).toEqual({ jit: 'on', random_page_cost: '4' });
  } finally {
    if (before === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = before;
  }
});
