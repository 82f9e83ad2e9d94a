import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

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

/** One node of an EXPLAIN (FORMAT JSON) plan, with the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

type PlanOptions = { analyze?: boolean; transaction?: Transaction };

/**
 * The root of the plan PostgreSQL makes for `statement` (as Sequelize logged it); with `analyze`, the statement runs
 * (in `transaction`, for a write the caller then rolls back).
 */
export async function planTree(sequelize: Sequelize, statement: string, opts: PlanOptions = {}): Promise<PlanNode> {
  const [{ 'QUERY PLAN': plan }] = await sequelize.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
    `EXPLAIN (${opts.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${statement.replace(/^Execut(ed|ing) \([^)]*\): /, '')}`,
    { type: QueryTypes.SELECT, transaction: opts.transaction },
  );
  return plan[0].Plan;
}

/**
 * Every node of the plan PostgreSQL makes for `statement` (as Sequelize logged it, "Executing (...): " and all),
 * depth first; with `analyze`, the statement runs and the nodes carry their actual rows.
 */
export async function planNodes(sequelize: Sequelize, statement: string, opts: PlanOptions = {}): Promise<PlanNode[]> {
  return nodesOf(await planTree(sequelize, statement, opts));
}

/** A plan's nodes, depth first. */
export const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];
