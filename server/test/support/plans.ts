import { QueryTypes, type Sequelize } from 'sequelize';

/**
 * VACUUM ANALYZE `table` until its visibility map covers (nearly) every page, as autovacuum leaves a table at rest, so plan
 * tests see the plans production sees (index-only scans need all-visible pages). One VACUUM is not always enough:
 * it cannot mark a page all-visible while another session of the database holds an older snapshot (a test's
 * own server or job runner, under CI load), so it tries again for a while.
 */
export async function vacuumedAtRest(sequelize: Sequelize, table: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sequelize.query(`VACUUM ANALYZE ${table}`);
    const [row] = await sequelize.query<{ pages: number; visible: number }>(
      'SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE oid = CAST(:table AS regclass)',
      { replacements: { table }, type: QueryTypes.SELECT },
    );
    // A page or two may hold a row another test updated a moment ago: 98% is a table at rest.
    if (row.visible >= row.pages * 0.98) return;
    if (Date.now() > deadline) throw new Error(`${table}: ${row.visible} of ${row.pages} pages all-visible after ${timeoutMs} ms of VACUUM`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
