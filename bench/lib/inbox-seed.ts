import { Client } from 'pg';
import { hashPassword } from '../../server/services/auth';
import { log } from './log';
import { BENCH_PASSWORD, bulkLoadNotifications, insertSessions, type SessionOptions } from './seed';

/**
 * The inbox bench's table (issue 14): `total` notifications over many users, two of them measured, each with 100,000
 * rows (`perUser`) spread evenly through the table (every 50th row, offset 0 and 25), as months of traffic would leave them:
 * - "mix": an instructor of 40 courses; 70% applications (skewed: a few popular courses get most), 15% announcements,
 *   10% messages from candidates, 5% course updates and session starts; 10% done, about 78% read, 50 snoozed.
 * - "extreme": an instructor of 9 courses with 90,000 applications (9 groups of 10,000) and 10,000 messages, a
 *   third read (the shape the notification-groups migration measured).
 * The other rows go to 20,000 candidates (decisions, announcements, messages, exam results...) and 60 other
 * instructors (applications to their own courses). Titles and messages are the app's own wording around real-looking
 * course titles and sender names, so the words searched for are as common as they would be. The search vector is
 * the production expression (store/fulltext.ts) computed per row in the same INSERT.
 *
 * Everything is set-based: a handful of INSERT ... SELECT generate_series. As bench/lib/seed.ts does for the
 * queries bench, secondary indexes are dropped during the load and rebuilt from their own definitions, FK triggers
 * are skipped (every id used exists), then VACUUM ANALYZE leaves the table as autovacuum would at rest.
 */
export interface InboxUser {
  id: number;
  cookie: string;
  shape: string;
}

export interface SeededInbox {
  mix: InboxUser & { topCourse: string };
  extreme: InboxUser;
  /** An instructor with no notifications: the page's cost without a heavy bell. */
  empty: InboxUser;
  seconds: number;
  counts: Record<string, Record<string, number>>;
}

const FIRST = ['Camille', 'Noah', 'Amara', 'Lucas', 'Ines', 'Mateo', 'Yuki', 'Omar', 'Freya', 'Ravi', 'Sofia', 'Jonas',
  'Leila', 'Tomas', 'Aisha', 'Felix', 'Mei', 'Diego', 'Hanna', 'Kwame', 'Elena', 'Arjun', 'Nora', 'Pavel', 'Zoe',
  'Tariq', 'Ingrid', 'Kenji', 'Lucia', 'Emeka', 'Clara', 'Hugo', 'Priya', 'Sven', 'Maya', 'Karim', 'Alba', 'Oskar',
  'Nadia', 'Bruno'];
const LAST = ['Martin', 'Okafor', 'Silva', 'Nakamura', 'Haddad', 'Novak', 'Larsen', 'Kowalski', 'Moreau', 'Patel',
  'Rossi', 'Schmidt', 'Fernandez', 'Ivanova', 'Mensah', 'Lindqvist', 'Dubois', 'Tanaka', 'Costa', 'Weber', 'Nguyen',
  'Andersen', 'Garcia', 'Kumar', 'Petrov', 'Bianchi', 'Hughes', 'Yilmaz', 'Eriksen', 'Romero'];
const SUBJECTS = ['PostgreSQL', 'Rust', 'Linear Algebra', 'Organic Chemistry', 'Jazz Piano', 'Data Visualisation',
  'Machine Learning', 'Statistics', 'Creative Writing', 'Web Accessibility', 'Cloud Architecture', 'Photography',
  'Microeconomics', 'Astronomy', 'Spanish', 'Japanese', 'Graph Theory', 'Compilers', 'Bioinformatics', 'Urban Design',
  'Typography', 'Game Design', 'Climate Science', 'Philosophy of Mind', 'Public Speaking', 'Kubernetes', 'TypeScript',
  'Calculus', 'Neuroscience', 'Music Theory'];
const FORMS = ['in Practice', 'Fundamentals', 'for Beginners', 'Advanced Topics', 'Workshop', 'Bootcamp', 'Masterclass',
  'Seminar', 'Lab', 'Studio', 'Intensive', 'Clinic'];
const ANNOUNCEMENTS = ['Room change for next week', 'Deadline extended', 'Reading list updated', 'Guest lecture on Friday',
  'Office hours moved', 'Holiday schedule', 'Midterm review session', 'Lab safety reminder', 'Project teams announced',
  'Feedback survey open'];
const PHRASES = ['Could you look at my draft before the deadline?', 'Is the lab open on Saturday?',
  'Thanks for the feedback on my project.', 'I will be late for the session tomorrow.',
  'Can I switch to the evening group?', 'The slides from last week do not open.', 'Where do we submit the assignment?',
  'Could we move our meeting to Thursday?', 'I found a mistake in exercise four.', 'Is there a recording of the lecture?'];

const arr = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(', ')}]`;
const pick = (xs: string[], i: string) => `(${arr(xs)})[1 + (${i}) % ${xs.length}]`;

const STRIDE = 50; // the mix user has rows g % 50 = 0, the extreme one g % 50 = 25

export async function seedInbox(url: string, opts: SessionOptions & { total: number; perUser: number; tag: string }): Promise<SeededInbox> {
  if (opts.total < opts.perUser * STRIDE) throw new Error(`--rows must be at least ${opts.perUser * STRIDE} (two users of ${opts.perUser} each, 1 row in ${STRIDE})`);
  const db = new Client({ connectionString: url, application_name: 'herald-bench-seed' });
  await db.connect();
  const t0 = Date.now();
  try {
    await db.query('SELECT setseed(0.14)');
    const hash = await hashPassword(BENCH_PASSWORD);
    const users = async (prefix: string, count: number, role: string): Promise<number[]> => {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO users (email, name, role, password_hash)
         SELECT format('%s.%s.%s@bench.herald.test', $1::text, $2::text, g),
                ${pick(FIRST, 'g')} || ' ' || ${pick(LAST, `g / ${FIRST.length} + g`)}, $3, $4
           FROM generate_series(1, $5::int) AS g ORDER BY g RETURNING id`,
        [opts.tag, prefix, role, hash, count],
      );
      return rows.map((r) => r.id);
    };
    const [mixId, extremeId, emptyId] = await users('measured', 3, 'instructor');
    const others = await users('instructor', 60, 'instructor');
    const candidates = await users('candidate', 20_000, 'candidate');
    // Courses: 40 for the mix user, 9 for the extreme one, 5 for each other instructor; title k is
    // SUBJECTS[k % 30] + FORMS[k / 30 % 12], all distinct.
    const owners = [...Array(40).fill(mixId), ...Array(9).fill(extremeId), ...others.flatMap((o) => Array(5).fill(o))];
    const { rows: courseRows } = await db.query<{ id: number; title: string }>(
      `INSERT INTO courses (title, description, instructor_id)
       SELECT ${pick(SUBJECTS, 'k')} || ' ' || ${pick(FORMS, `k / ${SUBJECTS.length}`)}, 'Seeded by the inbox bench.', o
         FROM unnest($1::int[]) WITH ORDINALITY AS t(o, k1), LATERAL (SELECT k1 - 1 AS k) kk ORDER BY k1 RETURNING id, title`,
      [owners],
    );
    const courses = courseRows.map((r) => r.id);
    const mixCourses = courses.slice(0, 40);
    const extremeCourses = courses.slice(40, 49);
    const otherCourses = courses.slice(49);

    const chunk = 500_000;
    const rebuilt = await bulkLoadNotifications(db, async () => {
      for (let from = 1; from <= opts.total; from += chunk) {
        const to = Math.min(opts.total, from + chunk - 1);
        await db.query(insertChunkSql(opts.perUser), [from, to, opts.total, mixId, extremeId, mixCourses, extremeCourses, otherCourses, others, candidates]);
        log(`  notifications: ${to.toLocaleString('en')} / ${opts.total.toLocaleString('en')} rows (${Math.round((Date.now() - t0) / 1000)} s)`);
      }
      log('  rebuilding the indexes and the group counters');
    });
    log(`  ${rebuilt} indexes rebuilt`);
    await db.query('ANALYZE users; ANALYZE courses; ANALYZE notification_group_counts');

    const { rows: counts } = await db.query<{ who: string; what: string; n: string }>(
      `SELECT CASE recipient_id WHEN $1 THEN 'mix' ELSE 'extreme' END AS who, what, count(*) AS n FROM (
         SELECT recipient_id, unnest(ARRAY['total', 'type:' || type,
                  CASE WHEN read_at IS NULL THEN 'unread' END, CASE WHEN done_at IS NOT NULL THEN 'done' END,
                  CASE WHEN snoozed_until IS NOT NULL THEN 'snoozed' END, CASE WHEN group_key IS NOT NULL THEN 'grouped' END]) AS what
           FROM notifications WHERE recipient_id IN ($1, $2)) x
        WHERE what IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
      [mixId, extremeId],
    );
    const byUser: Record<string, Record<string, number>> = {};
    for (const r of counts) (byUser[r.who] ??= {})[r.what] = Number(r.n);
    const { rows: groups } = await db.query<{ who: string; n: string; biggest: string }>(
      `SELECT CASE recipient_id WHEN $1 THEN 'mix' ELSE 'extreme' END AS who, count(*) AS n, max(c) AS biggest
         FROM (SELECT recipient_id, group_key, count(*) AS c FROM notifications
                WHERE recipient_id IN ($1, $2) AND group_key IS NOT NULL GROUP BY 1, 2) g GROUP BY 1`,
      [mixId, extremeId],
    );
    for (const g of groups) Object.assign(byUser[g.who], { groups: Number(g.n), biggest_group: Number(g.biggest) });
    const { rows: total } = await db.query<{ n: string }>('SELECT count(*) AS n FROM notifications');
    byUser.table = { rows: Number(total[0].n) };

    const [mixS, extremeS, emptyS] = (await insertSessions(db, [mixId, extremeId, emptyId], opts)).cookies;
    await db.query('ANALYZE session');
    return {
      mix: { id: mixId, cookie: mixS, shape: 'mix', topCourse: courseRows[0].title },
      extreme: { id: extremeId, cookie: extremeS, shape: 'extreme' },
      empty: { id: emptyId, cookie: emptyS, shape: 'empty' },
      seconds: (Date.now() - t0) / 1000,
      counts: byUser,
    };
  } finally {
    await db.end();
  }
}

/**
 * One chunk of rows g in [$1, $2] of $3. `r` holds three uniform numbers per row: kind, course/sender, state.
 * $4 mix user, $5 extreme user, $6 their courses, $7 the extreme's, $8 the other courses, $9 other instructors,
 * $10 candidates. Created one every 6 s up to now (about a year for 5,000,000 rows); read/done after creation.
 */
function insertChunkSql(measured: number): string {
  const rowSql = `
    SELECT g, r1, r2, r3, who,
      CASE who
        WHEN 'mix' THEN CASE WHEN r1 < 0.70 THEN 'application_submitted' WHEN r1 < 0.85 THEN 'announcement'
                             WHEN r1 < 0.95 THEN 'message' WHEN r1 < 0.98 THEN 'course_update' ELSE 'session_start' END
        WHEN 'extreme' THEN CASE WHEN r1 < 0.90 THEN 'application_submitted' ELSE 'message' END
        WHEN 'instructor' THEN CASE WHEN r1 < 0.85 THEN 'application_submitted' ELSE 'message' END
        ELSE (ARRAY['application_approved', 'application_rejected', 'announcement', 'announcement', 'course_update',
                    'session_start', 'exam_result', 'message', 'course_enrollment'])[1 + floor(r1 * 9)::int] END AS type,
      CASE who
        WHEN 'mix' THEN ($6::int[])[1 + floor(40 * r2 * r2)::int]
        WHEN 'extreme' THEN ($7::int[])[1 + g % 9]
        ELSE ($8::int[])[1 + floor(r2 * cardinality($8::int[]))::int] END AS course_id,
      CASE who WHEN 'mix' THEN $4 WHEN 'extreme' THEN $5
        WHEN 'instructor' THEN ($9::int[])[1 + (g / 7) % cardinality($9::int[])]
        ELSE ($10::int[])[1 + (g::bigint * 7919 % cardinality($10::int[]))::int] END AS recipient_id,
      ($10::int[])[1 + floor(r3 * 1000 + g % 19 * 1000)::int % cardinality($10::int[])] AS candidate_id,
      ($9::int[])[1 + g % cardinality($9::int[])] AS staff_id
    FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3,
                 CASE WHEN g % ${STRIDE} = 0 AND g / ${STRIDE} <= ${measured} THEN 'mix'
                      WHEN g % ${STRIDE} = 25 AND g / ${STRIDE} < ${measured} THEN 'extreme'
                      WHEN g % 10 < 3 THEN 'instructor' ELSE 'candidate' END AS who
            FROM generate_series($1::int, $2::int) AS g) s`;
  // Senders: candidates write applications and messages; staff (another instructor) the rest.
  return `
    INSERT INTO notifications (recipient_id, sender_id, type, title, message, data, course_id, read_at, done_at,
                               snoozed_until, created_at, search_vector)
    SELECT x.recipient_id, x.sender_id, x.type, x.title, x.message, jsonb_build_object('course_id', x.course_id),
           x.course_id, x.read_at, x.done_at, x.snoozed_until, x.created_at,
           setweight(to_tsvector('english', x.title), 'A') || setweight(to_tsvector('english', x.message), 'B')
           || setweight(to_tsvector('english', concat_ws(' ', x.sender_name, x.course_title)), 'C')
      FROM (
        SELECT r.recipient_id, sd.id AS sender_id, sd.name AS sender_name, r.type, c.title AS course_title, r.course_id,
               CASE r.type
                 WHEN 'application_submitted' THEN 'New application to ' || c.title
                 WHEN 'application_approved' THEN 'Application approved'
                 WHEN 'application_rejected' THEN 'Application not accepted'
                 WHEN 'announcement' THEN ${pick(ANNOUNCEMENTS, 'r.g / 3')}
                 WHEN 'message' THEN 'Message from ' || sd.name
                 WHEN 'session_start' THEN c.title || ' starts in 15 minutes'
                 WHEN 'exam_result' THEN 'Exam results for ' || c.title
                 WHEN 'course_enrollment' THEN 'Enrolled in ' || c.title
                 ELSE c.title || ' was updated' END AS title,
               CASE r.type
                 WHEN 'application_submitted' THEN sd.name || ' applied to ' || c.title || '.'
                 WHEN 'application_approved' THEN 'Your application to ' || c.title || ' was approved.'
                 WHEN 'application_rejected' THEN 'Your application to ' || c.title || ' was not accepted this time.'
                 WHEN 'announcement' THEN 'About ' || c.title || ': ' || ${pick(PHRASES, 'r.g / 7')}
                 WHEN 'message' THEN ${pick(PHRASES, 'r.g / 11')}
                 WHEN 'session_start' THEN 'Join the live session of ' || c.title || '.'
                 WHEN 'exam_result' THEN 'Your grade for ' || c.title || ' is available.'
                 WHEN 'course_enrollment' THEN 'Welcome to ' || c.title || '.'
                 ELSE 'New material in ' || c.title || ': ' || ${pick(ANNOUNCEMENTS, 'r.g / 5')} END AS message,
               now() - make_interval(secs => ($3::int - r.g) * 6) AS created_at,
               -- States: the mix user has 10% done (also read), ~78% read, 50 snoozed (also read); the extreme user
               -- a third read; everyone else 90% read. Read and done an hour or two after creation (never silent).
               CASE WHEN r.who = 'mix' AND r.g / ${STRIDE} % 2000 = 0 THEN now() - make_interval(secs => ($3::int - r.g) * 6) + interval '1 hour'
                    WHEN (r.who = 'mix' AND r.r3 < 0.88) OR (r.who = 'extreme' AND r.r3 < 1.0 / 3)
                         OR (r.who NOT IN ('mix', 'extreme') AND r.r3 < 0.9)
                    THEN now() - make_interval(secs => ($3::int - r.g) * 6) + interval '1 hour' END AS read_at,
               CASE WHEN r.who = 'mix' AND r.r3 < 0.10 AND r.g / ${STRIDE} % 2000 <> 0
                    THEN now() - make_interval(secs => ($3::int - r.g) * 6) + interval '2 hours' END AS done_at,
               CASE WHEN r.who = 'mix' AND r.g / ${STRIDE} % 2000 = 0 THEN now() + interval '3 days' END AS snoozed_until
          FROM (${rowSql}) r
          JOIN courses c ON c.id = r.course_id
          JOIN users sd ON sd.id = CASE WHEN r.type IN ('application_submitted', 'message') THEN r.candidate_id ELSE r.staff_id END
      ) x`;
}
