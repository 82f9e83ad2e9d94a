import pino from 'pino';

/**
 * One structured logger for the process. Credentials never reach the logs: the redaction list covers the
 * places they travel (cookies, CSRF headers, password fields).
 */
export function createLogger(level: string) {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers["x-csrf-token"]',
        'req.headers["x-xsrf-token"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.password_hash',
        'password',
      ],
      censor: '[redacted]',
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
