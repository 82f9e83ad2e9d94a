import { QueryTypes } from 'sequelize';
import { createSequelize } from '../../db';

/**
 * Herald's sessions run without JIT (server/db/index.ts): a send to "everyone" on a million users estimates a cost
 * that makes PostgreSQL compile its plan, 25-30 ms for a statement that itself takes 5. An operator's PGOPTIONS
 * comes after Herald's own and wins.
 */
const url = process.env.HERALD_TEST_PG_URL!; // the suite's PostgreSQL (global-setup.ts), its postgres database

async function jitOf(): Promise<string> {
  const sequelize = createSequelize({ url });
  try {
    const [row] = await sequelize.query<{ jit: string }>('SHOW jit', { type: QueryTypes.SELECT });
    return row.jit;
  } finally {
    await sequelize.close();
  }
}

test('sessions run with JIT off, and PGOPTIONS can turn it back on', async () => {
  const before = process.env.PGOPTIONS;
  try {
    delete process.env.PGOPTIONS;
    expect(await jitOf()).toBe('off');
    process.env.PGOPTIONS = '-c jit=on';
    expect(await jitOf()).toBe('on');
  } finally {
    if (before === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = before;
  }
});
