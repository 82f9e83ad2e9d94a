import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The notification store (server/services/notifications/store/) is the only module that reads or writes
 * notification rows (issue 11): a later change of the table layout (issue 17 moves the content to a shared row)
 * must touch the store alone. So no SQL outside it names the `notifications` table; channels use the store's
 * pieces (`notificationRows`, `jobScope`, `channelNotifications`, ...). Tests and migrations may name it;
 * `server/models/` declares it, as a migration does.
 */
const SERVER = path.join(__dirname, '..', '..', '..');
const STORE = path.join('services', 'notifications', 'store');
const ALLOWED = [STORE, 'models', 'test'];

/** SQL naming the table: FROM/JOIN/INTO/UPDATE/TABLE notifications (an alias or `"notifications"` alike). */
const NAMES_TABLE = /\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+"?notifications\b/gi;

/** Comments may say "notifications" freely: they name no table to a query. Strings stay, SQL lives in them. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function tableNames(source: string): string[] {
  return [...withoutComments(source).matchAll(NAMES_TABLE)].map((m) => m[0]);
}

function sourceFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(dir, child));
    else if (entry.name.endsWith('.ts')) out.push(child);
  }
  return out;
}

test('the matcher finds the table in SQL and not in comments', () => {
  expect(tableNames('db.query(`SELECT n.id FROM notifications n WHERE n.id = :id`)')).toHaveLength(1);
  expect(tableNames("sql: 'UPDATE notifications SET read_at = now()', join: `LEFT JOIN \"notifications\" x`")).toHaveLength(2);
  expect(tableNames('/**\n * @example\n *   INSERT INTO notifications (recipient_id)\n */\nconst a = 1;\n// FROM notifications n')).toEqual([]);
  expect(tableNames("const label = 'Stop emails about new notifications';")).toEqual([]);
});

test('no SQL outside the notification store names the notifications table', () => {
  const files = sourceFiles(SERVER);
  const inStore = files.filter((f) => f.startsWith(STORE + path.sep));
  // The walk reaches the store, and the store does name its table: the scan reads what it should.
  expect(inStore.some((f) => tableNames(readFileSync(path.join(SERVER, f), 'utf8')).length > 0)).toBe(true);

  const offenders = files
    .filter((f) => !ALLOWED.some((dir) => f === dir || f.startsWith(dir + path.sep)))
    .flatMap((f) => tableNames(readFileSync(path.join(SERVER, f), 'utf8')).map((sql) => `${f}: ${sql}`));
  expect(offenders).toEqual([]);
});
