import pino from 'pino';

/**
 * One structured logger for the process. Credentials never reach the logs: the redaction list covers the
 * places they travel (cookies, CSRF headers, password fields).
 */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  const options: pino.LoggerOptions = {
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
  };
  // `destination` lets tests read what would be logged; the process logs to stdout.
  return destination ? pino(options, destination) : pino(options);
}

export type Logger = ReturnType<typeof createLogger>;
