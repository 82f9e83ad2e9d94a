import { BadRequest, HttpError, ServiceUnavailable } from '../errors';

const DB_UNAVAILABLE = new Set([
  'SequelizeConnectionError',
  'SequelizeConnectionRefusedError',
  'SequelizeConnectionAcquireTimeoutError',
  'SequelizeHostNotReachableError',
  'SequelizeConnectionTimedOutError',
]);

const DB_DOWN_CODES = new Set(['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/**
 * Maps anything thrown into an HttpError: body-parser's own errors keep their 4xx meaning, a lost database
 * becomes 503, and every unknown error becomes an opaque 500 (logged by the caller, never shown).
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { type?: string; status?: number; name?: string; code?: string; message?: string };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new BadRequest('The request body is not valid JSON.');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'The request body is too large.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'The request body encoding is not supported.');
    case 'request.aborted':
      return new BadRequest('The request was aborted.');
    case 'parameters.too.many':
      return new HttpError(413, 'payload_too_large', 'Too many parameters.');
  }
  if (e?.name && DB_UNAVAILABLE.has(e.name)) return new ServiceUnavailable();
  // Postgres 57P01 (admin shutdown), 57P02 (crash shutdown), 57P03 (cannot connect now), 08xxx (connection
  // exceptions). Raw pg errors (the session store's own pool, not wrapped by Sequelize) carry socket codes like
  // ECONNREFUSED, or only a message when the server closed the connection.
  const parent = (err as { parent?: { code?: string; message?: string } })?.parent;
  const pgCode = parent?.code ?? e?.code;
  if (typeof pgCode === 'string' && (pgCode.startsWith('08') || DB_DOWN_CODES.has(pgCode))) {
    return new ServiceUnavailable();
  }
  if (/^Connection terminated/.test(parent?.message ?? e?.message ?? '')) return new ServiceUnavailable();
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new HttpError(e.status, 'bad_request', e.message ?? 'Bad request.');
  }
  return new HttpError(500, 'internal_error', 'Something went wrong on our side.');
}

/**
 * The smallest page that still says what happened, for when the real error page cannot be rendered (its layout
 * reads the database, which may be what failed): HTML, so a browser shows it as a page like any other.
 */
export function bareErrorPage(text: string): string {
  const escaped = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Herald</title><p>${escaped}</p></html>`;
}
