import type { Sequelize } from 'sequelize';
import type { Models } from '../models';
import { hashPassword } from './auth';
import { NotificationStore, type NewNotification } from './notifications';

export const DEMO_PASSWORD = 'demo1234';
export const DEMO_LOGINS = [
  { email: 'candidate@example.com', role: 'candidate' },
  { email: 'instructor@example.com', role: 'instructor' },
  { email: 'instructor2@example.com', role: 'instructor' },
  { email: 'admin@example.com', role: 'admin' },
] as const;

/**
 * Gives a new database something to look at: four demo logins, a dozen students and five courses.
 * Runs once: a database that already has the demo admin is left alone, and a transaction-scoped advisory lock
 * keeps two processes starting together from both seeding. It lives with the services because it uses them (the
 * password hash, the notification store); it announces nothing: it runs before anyone can be connected.
 */
export async function seedDemo(sequelize: Sequelize, models: Models): Promise<boolean> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const store = new NotificationStore(sequelize);
  return sequelize.transaction(async (transaction) => {
    await sequelize.query('SELECT pg_advisory_xact_lock(7420002)', { transaction });
    const existing = await models.User.count({ where: { email: 'admin@example.com' }, transaction });
    if (existing > 0) return false;

    const mk = (email: string, name: string, role: 'candidate' | 'instructor' | 'admin') =>
      models.User.create({ email, name, role, passwordHash }, { transaction });
    const candidate = await mk('candidate@example.com', 'Camille Candidate', 'candidate');
    const instructor = await mk('instructor@example.com', 'Ines Instructor', 'instructor');
    const instructor2 = await mk('instructor2@example.com', 'Omar Okafor', 'instructor');
    await mk('admin@example.com', 'Ada Admin', 'admin');
    const studentNames = ['Lea', 'Noah', 'Mia', 'Liam', 'Zoe', 'Ethan', 'Ana', 'Yuki', 'Sam', 'Ravi', 'Elif', 'Tom'];
    const students = await models.User.bulkCreate(
      studentNames.map((n, i) => ({ email: `student${i + 1}@example.com`, name: `${n} Student`, role: 'candidate' as const, passwordHash })),
      { transaction, returning: true },
    );

    const course = (title: string, description: string, instructorId: number) =>
      models.Course.create({ title, description, instructorId }, { transaction });
    const ts = await course('TypeScript from Zero', 'Types, generics and the compiler, with weekly exercises.', instructor.id);
    const rt = await course('Realtime Web with WebSockets', 'Sockets, backpressure and fan-out, built live.', instructor.id);
    const pg = await course('PostgreSQL in Practice', 'Indexes, plans and transactions on real data.', instructor.id);
    const ds = await course('Design Systems', 'Tokens, components and accessibility at scale.', instructor2.id);
    await course('Data Visualisation', 'Telling the truth with charts.', instructor2.id);

    const enroll = (courseId: number, ids: number[]) =>
      models.Enrollment.bulkCreate(ids.map((studentId) => ({ courseId, studentId })), { transaction });
    await enroll(ts.id, students.slice(0, 8).map((s) => s.id));
    await enroll(rt.id, students.slice(4, 12).map((s) => s.id));
    await enroll(pg.id, students.slice(0, 3).map((s) => s.id));
    await enroll(ds.id, students.slice(6, 10).map((s) => s.id));

    // The candidate has one pending application (to instructor2) and none to instructor's courses, so the
    // demo walk-through (apply, approve) starts from a clean slate with instructor@example.com.
    const application = await models.Application.create(
      { courseId: ds.id, candidateId: candidate.id, motivation: 'I build UI kits at work and want to do it properly.' },
      { transaction },
    );
    const notices: NewNotification[] = [
      {
        recipientId: instructor2.id,
        senderId: candidate.id,
        type: 'application_submitted',
        title: 'New application to Design Systems',
        message: `${candidate.name} applied to Design Systems.`,
        applicationId: application.id,
        courseId: ds.id,
        data: { application_id: application.id, course_id: ds.id },
      },
      ...students.slice(0, 8).map((s) => ({
        recipientId: s.id,
        senderId: instructor.id,
        type: 'announcement' as const,
        title: 'Welcome to TypeScript from Zero',
        message: 'The first exercise sheet is online. See you on Monday!',
        courseId: ts.id,
        data: { course_id: ts.id },
      })),
    ];
    for (const n of notices) await store.insert(n, transaction);
    return true;
  });
}
