import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Where local state lives (embedded database, dev session secret). Git-ignored. */
export const DATA_DIR = path.resolve(process.env.HERALD_DATA_DIR ?? path.join(__dirname, '..', '.data'));

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  SESSION_SECRET: z.string().min(32, 'SESSION_SECRET must be at least 32 characters').optional(),
  SESSION_IDLE_MINUTES: z.coerce.number().int().positive().default(120),
  /** Comma-separated origins allowed for CORS, state-changing requests and WebSocket upgrades, besides our own. */
  ALLOWED_ORIGINS: z.string().default(''),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: boolish.default(true),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** 0: every serving process runs the job runner; n: n processes of their own run it and serving processes none. */
  JOB_WORKERS: z.coerce.number().int().min(0).max(64).default(0),
  /** Scheduling priority (nice, 0-19) of job processes: on a machine they share with serving processes, socket frames go first. */
  JOB_NICE: z.coerce.number().int().min(0).max(19).default(0),
  /** A job locked this long by a runner whose process died is taken over (graphile-worker alone waits 4 hours). */
  JOB_STALE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** A send to at most this many users is one statement (all or none); above it, recorded and written in chunks. */
  SEND_INLINE_MAX: z.coerce.number().int().min(1).default(10_000),
  /** Recipients per chunk of a recorded send (one transaction each). */
  SEND_CHUNK_SIZE: z.coerce.number().int().min(1).max(100_000).default(1_000),
  TRUST_PROXY: boolish.default(false),
  /** Lifts the private-network rule for outbound requests (push endpoints, webhooks): tests, private deployments. */
  OUTBOUND_ALLOW_PRIVATE: boolish.default(false),
  /** Bearer token for /metrics. Unset: /metrics is not served at all. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** A client must have sent its whole request head (an upgrade's too) within this many seconds. */
  HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(30),
  /** A whole request (head and body) must arrive within this many seconds. */
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(60),
  /** Connections from one address that have not yet sent a complete request head. */
  MAX_PENDING_CONNECTIONS_PER_IP: z.coerce.number().int().positive().default(32),
  /** How often open sockets' sessions are re-checked (expired or ended ones are closed). */
  SESSION_CHECK_SECONDS: z.coerce.number().positive().default(30),
  /** Web Push (VAPID, RFC 8292): both keys or neither; without them a pair is generated once and kept in the database. */
  VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{87}$/, 'must be an uncompressed P-256 public key, base64url').optional(),
  VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a P-256 private key, base64url').optional(),
  /** Who push services contact about our pushes: a mailto: or https: URL. */
  VAPID_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https: URL').optional(),
  /** Requests per minute to /api per access token, or per session for cookie clients, across all processes. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  /** A tab that resumes (`?since=`, Last-Event-ID) is told of deletions up to this many days old. */
  STATE_REPLAY_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(7),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  /** Unset means: start the embedded PostgreSQL under DATA_DIR. */
  databaseUrl?: string;
  /** Set means: the cross-process bus uses Redis pub/sub instead of LISTEN/NOTIFY. */
  redisUrl?: string;
  sessionSecret: string;
  sessionIdleMs: number;
  allowedOrigins: string[];
  publicUrl?: string;
  logLevel: string;
  seedDemo: boolean;
  webConcurrency: number;
  /** Processes that run only the job runner (forked by the primary); 0 keeps a runner in every serving process. */
  jobWorkers: number;
  /** The nice value job processes lower themselves to (0: as serving processes). */
  jobNice: number;
  /** After how long a dead runner's jobs are freed for another runner. */
  jobStaleSeconds: number;
  /** SEND_INLINE_MAX, SEND_CHUNK_SIZE: where sends go out in recorded chunks, and how big those are. */
  sendLimits: { inlineMax: number; chunkSize: number };
  trustProxy: boolean;
  /** Requests to user-chosen URLs may reach private and loopback addresses (never in a public deployment). */
  outboundAllowPrivate: boolean;
  metricsToken?: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxPendingConnectionsPerIp: number;
  sessionCheckMs: number;
  /** Web Push: keys from the environment (else generated and kept in the database) and the contact sent with them. */
  vapid: { publicKey?: string; privateKey?: string; subject: string };
  apiRateLimitPerMinute: number;
  /** Days a deletion's tombstone is kept for the replay of state changes (older ones are pruned hourly). */
  stateReplayRetentionDays: number;
}

export class ConfigError extends Error {}

/** A start failure the operator can fix; its message says what failed and what to do, and is printed alone. */
export class StartupError extends Error {}

/**
 * Reads and validates the environment once, at boot. A production start without a session secret is refused:
 * a generated one would silently log everybody out on every restart and differ between processes.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const isProduction = e.NODE_ENV === 'production';
  let sessionSecret = e.SESSION_SECRET;
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
    throw new ConfigError('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both, or neither to use the generated pair.');
  }
  if (!sessionSecret) {
    if (isProduction) {
      throw new ConfigError('SESSION_SECRET is required in production (at least 32 random characters).');
    }
    sessionSecret = devSessionSecret();
  }
  return {
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    sessionSecret,
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    allowedOrigins: e.ALLOWED_ORIGINS.split(',').map((s) => s.trim().replace(/\/$/, '')).filter(Boolean),
    publicUrl: e.PUBLIC_URL,
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO,
    webConcurrency: e.WEB_CONCURRENCY,
    jobWorkers: e.JOB_WORKERS,
    jobNice: e.JOB_NICE,
    jobStaleSeconds: e.JOB_STALE_SECONDS,
    sendLimits: { inlineMax: e.SEND_INLINE_MAX, chunkSize: e.SEND_CHUNK_SIZE },
    trustProxy: e.TRUST_PROXY,
    outboundAllowPrivate: e.OUTBOUND_ALLOW_PRIVATE,
    metricsToken: e.METRICS_TOKEN,
    headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
    // A request cannot have its body before its head: Node requires requestTimeout >= headersTimeout.
    requestTimeoutMs: Math.max(e.REQUEST_TIMEOUT_SECONDS, e.HEADERS_TIMEOUT_SECONDS) * 1000,
    maxPendingConnectionsPerIp: e.MAX_PENDING_CONNECTIONS_PER_IP,
    sessionCheckMs: e.SESSION_CHECK_SECONDS * 1000,
    vapid: {
      publicKey: e.VAPID_PUBLIC_KEY,
      privateKey: e.VAPID_PRIVATE_KEY,
      // Push services (Apple's among them) refuse a localhost https subject; a mailto: address is always accepted.
      subject: e.VAPID_SUBJECT ?? (e.PUBLIC_URL?.startsWith('https://') && !/\/\/localhost\b/.test(e.PUBLIC_URL) ? e.PUBLIC_URL : 'mailto:webmaster@localhost'),
    },
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
    stateReplayRetentionDays: e.STATE_REPLAY_RETENTION_DAYS,
  };
}

/** Outside production a secret is generated once and kept under DATA_DIR, so restarts keep sessions. */
function devSessionSecret(): string {
  const file = path.join(DATA_DIR, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

// --- Email (issue 12). Its own block so it merges beside other config changes; main.ts reads it at boot.

const EmailEnvSchema = z.object({
  /** e.g. smtp://user:pass@host:587 (STARTTLS when the server offers it) or smtps://host:465. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/./, 'SMTP_URL must start with smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().min(3).default('Herald <herald@localhost>'),
  EMAIL_UNREAD_DELAY_SECONDS: z.coerce.number().int().min(0).default(600),
  /** Where emails are written as .eml files when SMTP_URL is unset. */
  MAIL_DIR: z.string().optional(),
});

export interface EmailConfig {
  /** Unset: each email is written as an .eml file under `mailDir` and still recorded as sent. */
  smtpUrl?: string;
  from: string;
  unreadDelaySeconds: number;
  mailDir: string;
}

export function loadEmailConfig(env: NodeJS.ProcessEnv = process.env): EmailConfig {
  const parsed = EmailEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    smtpUrl: e.SMTP_URL,
    from: e.MAIL_FROM,
    unreadDelaySeconds: e.EMAIL_UNREAD_DELAY_SECONDS,
    mailDir: path.resolve(e.MAIL_DIR ?? path.join(DATA_DIR, 'mail')),
  };
}
