import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import type { Sequelize } from 'sequelize';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../app';
import { createMailer, emailTasks, type Mailer } from '../../channels/email';
import { pushChannelTasks } from '../../channels/push';
import { notificationTasks } from '../../services/notifications/tasks';
import { webhookChannelTasks, type RetryWindow } from '../../channels/webhooks';
import { loadConfig, loadEmailConfig, type Config, type EmailConfig } from '../../config';
import { createSequelize } from '../../db';
import { startProcessRunner, type JobRunner } from '../../jobs';
import { createLogger } from '../../logger';
import { initModels, type Course, type Models, type Role, type User } from '../../models';
import { createServices, type Services } from '../../services';
import type { NewNotification } from '../../services/notifications';
import { hashPassword } from '../../services/auth';
import { LocalEvents, type HeraldEvent } from '../../services/events';
import { createSession, type SessionSetup } from '../../http/session';
import { ServiceUnavailable } from '../../errors';
import type { EventStreams } from '../../realtime/sse';
import { withDatabase } from './global-setup';

export const PASSWORD = 'correct horse battery';
let passwordHash: Promise<string> | undefined;

export interface TestContext {
  config: Config;
  dbUrl: string;
  sequelize: Sequelize;
  models: Models;
  events: LocalEvents;
  /** Every event published since the context started (or since `published.length = 0`). */
  published: HeraldEvent[];
  services: Services;
  session: SessionSetup;
  app: ReturnType<typeof createApp>;
  /** The email settings the context runs with (from `env`; EMAIL_UNREAD_DELAY_SECONDS 1 with `jobs`). */
  email: EmailConfig;
  /** With `jobs: true`: the job runner (email tasks) on this database, and the mailer its tasks send with. */
  jobs?: { runner: JobRunner; mailer: Mailer; done: string[] };
  /** The app's event streams: served by `target` once a test attaches a realtime layer (startServer), else 503. */
  eventStreams: EventStreams & { target?: EventStreams };
  /** SQL statements seen by Sequelize while `countStatements` runs. */
  countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  createUser(role: Role, attrs?: Partial<{ email: string; name: string; isActive: boolean }>): Promise<User>;
  /** A course taught by `instructor`, with `students` enrolled (a random title unless given). */
  createCourse(instructor: User, opts?: { students?: User[]; title?: string; description?: string }): Promise<Course>;
  /** One notification, written and published as the services write one (in a transaction of its own); its id. */
  notify(n: NewNotification): Promise<number>;
  /** `notify` of a plain message to `recipient`, the row most inbox tests start from; its id. */
  message(recipient: Pick<User, 'id'>, title: string): Promise<number>;
  /** A supertest agent logged in as `user`, with its CSRF token ready for mutating calls. */
  login(user: User): Promise<Agent>;
  /** An anonymous agent holding a CSRF token (a session without a user). */
  anonymous(): Promise<Agent>;
  close(): Promise<void>;
}

export interface Agent {
  http: TestAgent;
  csrf: string;
  get(url: string): request.Test;
  post(url: string, body?: object): request.Test;
  patch(url: string, body?: object): request.Test;
  delete(url: string): request.Test;
}

/**
 * A whole Herald app on a database of its own, cloned from the migrated template. Call `close()` in afterAll:
 * it drops the database, so nothing a test file writes outlives it.
 */
export async function createTestContext(
  opts: {
    env?: NodeJS.ProcessEnv;
    authLimits?: object;
    /** The database's default TimeZone (what connect-pg-simple's pool sees), e.g. 'America/New_York'. */
    dbTimeZone?: string;
    /** Another PostgreSQL than the suite's: its `postgres` database URL and a migrated template there. */
    pg?: { url: string; template: string };
    /** Runs a job runner with the email, push and webhook tasks, as main.ts does, so tests see jobs run (SMTP_URL in `env`). */
    jobs?: boolean;
    /** With `jobs`: the agent pushes are sent through (a guarded one trusting the local push service's certificate). */
    pushAgent?: https.Agent;
    /** With `jobs`: when failed webhook tries come again (production's day-long schedule unless given). */
    webhookRetryWindows?: readonly RetryWindow[];
    /** With `jobs`: how long one webhook try may take (production's 10 s unless given). */
    webhookTimeoutMs?: number;
  } = {},
): Promise<TestContext> {
  const baseUrl = opts.pg?.url ?? process.env.HERALD_TEST_PG_URL!;
  const template = opts.pg?.template ?? process.env.HERALD_TEST_TEMPLATE;
  const dbName = `herald_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${template}`);
  if (opts.dbTimeZone) await admin.query(`ALTER DATABASE ${dbName} SET timezone = '${opts.dbTimeZone.replace(/'/g, "''")}'`);
  await admin.end();
  const dbUrl = withDatabase(baseUrl, dbName);

  const config = loadConfig({
    NODE_ENV: 'test',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-123',
    DATABASE_URL: dbUrl,
    LOG_LEVEL: 'silent',
    ALLOWED_ORIGINS: 'http://allowed.example',
    ...opts.env,
  });
  const logger = createLogger(config.logLevel);
  let counting: string[] | null = null;
  const sequelize = createSequelize({ url: dbUrl, onQuery: (sql) => counting?.push(sql) });
  const models = initModels(sequelize);
  const events = new LocalEvents();
  const published: HeraldEvent[] = [];
  events.subscribe((e) => published.push(e));
  const email = loadEmailConfig({
    ...(opts.jobs ? { EMAIL_UNREAD_DELAY_SECONDS: '1', MAIL_DIR: path.join(os.tmpdir(), `herald-mail-${dbName}`) } : {}),
    ...opts.env,
  });
  const services = createServices({
    sequelize,
    models,
    events,
    authLimits: opts.authLimits,
    push: { vapid: config.vapid, outbound: { allowPrivate: config.outboundAllowPrivate } },
    jobTiming: { unreadDelaySeconds: email.unreadDelaySeconds },
    sendLimits: config.sendLimits,
  });
  // As main.ts does at boot: the VAPID pair exists before a request asks for it, so a GET never writes.
  await services.vapid.get();
  const session = createSession(config, dbUrl);
  const eventStreams: TestContext['eventStreams'] = {
    target: undefined,
    open(res, identity, since) {
      if (!this.target) throw new ServiceUnavailable('Live streams are not served by this process.');
      this.target.open(res, identity, since);
    },
  };
  const app = createApp({ config, logger, services, session: session.middleware, eventStreams });
  let userSeq = 0;
  let jobs: TestContext['jobs'];
  if (opts.jobs) {
    const mailer = createMailer(email);
    const runner = await startProcessRunner({
      databaseUrl: dbUrl,
      log: { info: () => undefined },
      tasks: {
        ...notificationTasks({ notifications: services.notifications, sends: services.sends }),
        ...emailTasks({ sequelize, mailer, site: { publicUrl: 'https://herald.test.example', secret: config.sessionSecret } }),
        ...pushChannelTasks({
          sequelize,
          subscriptions: services.pushSubscriptions,
          vapid: services.vapid,
          policy: { allowPrivate: config.outboundAllowPrivate },
          logger,
          agent: opts.pushAgent,
        }),
        ...webhookChannelTasks({
          sequelize,
          notifications: services.notifications,
          policy: { allowPrivate: config.outboundAllowPrivate },
          logger,
          retryWindows: opts.webhookRetryWindows,
          timeoutMs: opts.webhookTimeoutMs,
        }),
      },
      pollInterval: 200,
    });
    const done: string[] = [];
    runner.runner.events.on('job:complete', ({ job }) => done.push(job.task_identifier));
    jobs = { runner, mailer, done };
  }

  const ctx: TestContext = {
    config,
    dbUrl,
    sequelize,
    models,
    events,
    published,
    services,
    session,
    app,
    email,
    jobs,
    eventStreams,
    async countStatements(fn) {
      counting = [];
      try {
        const result = await fn();
        return { result, statements: counting };
      } finally {
        counting = null;
      }
    },
    async createUser(role, attrs = {}) {
      passwordHash ??= hashPassword(PASSWORD);
      userSeq += 1;
      return models.User.create({
        email: attrs.email ?? `${role}${userSeq}-${randomBytes(3).toString('hex')}@test.example`,
        name: attrs.name ?? `${role[0].toUpperCase()}${role.slice(1)} ${userSeq}`,
        role,
        passwordHash: await passwordHash,
        isActive: attrs.isActive ?? true,
      });
    },
    async createCourse(instructor, opts = {}) {
      const title = opts.title ?? `Course ${randomBytes(3).toString('hex')}`;
      const course = await models.Course.create({
        title,
        description: opts.description ?? '',
        instructorId: instructor.id,
      });
      const students = opts.students ?? [];
      if (students.length) await models.Enrollment.bulkCreate(students.map((s) => ({ courseId: course.id, studentId: s.id })));
      return course;
    },
    notify(n) {
      return sequelize.transaction((t) => services.notifications.create(n, t));
    },
    message(recipient, title) {
      return ctx.notify({ recipientId: recipient.id, type: 'message', title });
    },
    async anonymous() {
      const http = request.agent(app);
      const res = await http.get('/api/auth/csrf').expect(200);
      return wrap(http, res.body.csrf_token);
    },
    async login(user) {
      const anon = await ctx.anonymous();
      const res = await anon.post('/api/auth/login', { email: user.email, password: PASSWORD }).expect(200);
      return wrap(anon.http, res.body.csrf_token);
    },
    async close() {
      await jobs?.runner.stop();
      jobs?.mailer.close();
      await session.pool.end();
      await sequelize.close();
      const a = new Client({ connectionString: baseUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await a.end();
    },
  };
  return ctx;
}

function wrap(http: TestAgent, csrf: string): Agent {
  return {
    http,
    csrf,
    get: (url) => http.get(url),
    post: (url, body) => {
      const t = http.post(url).set('X-CSRF-Token', csrf);
      return body === undefined ? t : t.send(body);
    },
    patch: (url, body) => {
      const t = http.patch(url).set('X-CSRF-Token', csrf);
      return body === undefined ? t : t.send(body);
    },
    delete: (url) => http.delete(url).set('X-CSRF-Token', csrf),
  };
}

/** Starts the app on an ephemeral port (for WebSocket and browser tests that need a real listener). */
export async function listen(app: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
