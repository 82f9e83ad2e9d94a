import pino from 'pino';

/**
 * How lines reach the terminal: `json` (one object a line, all fields) for production and anything that reads
 * logs by machine; `pretty` (one short readable line) for a person watching `npm start` in development, where a
 * 1.8 KB JSON line per request buries everything else.
 */
export type LogFormat = 'json' | 'pretty';

/** Readable lines only in development: production and tests keep JSON. */
export function logFormatFor(env: string): LogFormat {
  return env === 'development' ? 'pretty' : 'json';
}

/**
 * One structured logger for the process. Credentials never reach the logs: the redaction list covers the
 * places they travel (cookies, CSRF headers, password fields).
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json') {
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
  const out = destination ?? (format === 'pretty' ? process.stdout : undefined);
  if (format === 'pretty') return pino(options, prettyStream(out!));
  return out ? pino(options, out) : pino(options);
}

export type Logger = ReturnType<typeof createLogger>;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the short form already shows another way. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'req', 'res', 'err', 'responseTime', 'reqId']);

/**
 * Turns pino's JSON lines into "14:03:07 INFO  GET /courses 200 12ms". A line that is not ours (or not JSON)
 * passes through untouched, so nothing is ever lost to the formatter. Synchronous, in-process: no worker thread
 * and no extra package, which is all a development terminal needs.
 */
export function prettyStream(out: { write(s: string): unknown }): pino.DestinationStream {
  return {
    write(line: string) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(`${prettyLine(o)}\n`);
    },
  };
}

/** One log object as a short line (an error's stack follows on its own lines). */
export function prettyLine(o: Record<string, unknown>): string {
  const time = new Date(typeof o.time === 'number' ? o.time : Date.now()).toTimeString().slice(0, 8);
  const level = (LEVELS[o.level as number] ?? String(o.level)).padEnd(5);
  const req = o.req as { method?: string; url?: string } | undefined;
  const res = o.res as { statusCode?: number } | undefined;
  let text: string;
  if (req?.method && res?.statusCode !== undefined) {
    // pino-http's "request completed": the method, path, status and time say it all.
    const ms = typeof o.responseTime === 'number' ? ` ${Math.round(o.responseTime)}ms` : '';
    text = `${req.method} ${req.url} ${res.statusCode}${ms}`;
    if (o.msg && o.msg !== 'request completed') text += ` ${String(o.msg)}`;
  } else {
    text = String(o.msg ?? '');
  }
  const extra = Object.entries(o)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (extra.length) text += `  ${extra.join(' ')}`;
  const err = o.err as { stack?: string; message?: string } | undefined;
  if (err) text += `\n${err.stack ?? err.message ?? JSON.stringify(err)}`;
  return `${time} ${level} ${text}`;
}
