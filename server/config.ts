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
  TRUST_PROXY: boolish.default(false),
  /** Lifts the private-network rule for outbound requests (push endpoints, webhooks): tests, private deployments. */
  OUTBOUND_ALLOW_PRIVATE: boolish.default(false),
  /** Requests per minute to /api per access token, or per session for cookie clients, across all processes. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
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
  trustProxy: boolean;
  /** Requests to user-chosen URLs may reach private and loopback addresses (never in a public deployment). */
  outboundAllowPrivate: boolean;
  apiRateLimitPerMinute: number;
}

export class ConfigError extends Error {}

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
    trustProxy: e.TRUST_PROXY,
    outboundAllowPrivate: e.OUTBOUND_ALLOW_PRIVATE,
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
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
