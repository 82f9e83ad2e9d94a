import express from 'express';
import { pinoHttp } from 'pino-http';
import request from 'supertest';
import { createLogger, logFormatFor, prettyLine } from '../logger';

/** Issue 16.11: one short readable line per request in development; production keeps its JSON. */

function sink() {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

/** A request through pino-http, as app.ts logs it, with the headers a browser sends. */
async function logOneRequest(format: 'json' | 'pretty') {
  const out = sink();
  const logger = createLogger('info', out, format);
  const app = express();
  app.use(pinoHttp({ logger }));
  app.get('/courses', (_req, res) => void res.send('ok'));
  await request(app)
    .get('/courses?q=sql')
    .set('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36')
    .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8')
    .set('Cookie', 'herald.sid=s%3Asecret')
    .expect(200);
  return out.lines;
}

test('development logs readably; production and tests keep JSON', () => {
  expect(logFormatFor('development')).toBe('pretty');
  expect(logFormatFor('production')).toBe('json');
  expect(logFormatFor('test')).toBe('json');
});

test('pretty: one short line per request, no headers', async () => {
  const lines = await logOneRequest('pretty');
  expect(lines).toHaveLength(1);
  const [line] = lines;
  expect(line).toMatch(/^\d\d:\d\d:\d\d INFO  GET \/courses\?q=sql 200 \d+ms\n$/);
  expect(line.length).toBeLessThan(80);
  expect(line).not.toContain('Mozilla');
  expect(line).not.toContain('secret');
});

test('json: the whole request as one object, cookies redacted', async () => {
  const lines = await logOneRequest('json');
  expect(lines).toHaveLength(1);
  const o = JSON.parse(lines[0]);
  expect(o).toMatchObject({ level: 30, msg: 'request completed', req: { method: 'GET', url: '/courses?q=sql' }, res: { statusCode: 200 } });
  expect(o.req.headers['user-agent']).toContain('Mozilla');
  expect(o.req.headers.cookie).toBe('[redacted]');
});

test('pretty: other lines keep their message, their own fields and an error’s stack; redaction still applies', () => {
  const out = sink();
  const logger = createLogger('info', out, 'pretty');
  logger.warn({ worker: 2, password: 'hunter2' }, 'slow job');
  const err = new Error('boom');
  logger.error({ err, reqId: 'r1' }, 'page failed');
  expect(out.lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN  slow job {2}worker=2 password=\[redacted\]\n$/);
  expect(out.lines[1]).toMatch(/^\d\d:\d\d:\d\d ERROR page failed\nError: boom\n {4}at /);
  expect(prettyLine({ level: 30, time: 0, msg: 'listening', port: 3000 })).toMatch(/INFO  listening {2}port=3000$/);
});
