/**
 * The one error family, beside the domain: services throw these, and each sub-app's renderer (JSON for the API,
 * HTML for pages, a frame on a socket) turns them into its own answer. The status is part of the error's meaning
 * (Ghost's errors carry theirs the same way), so a service can say "not found" without knowing about HTTP.
 * `expose` errors carry a message meant for the user; anything else becomes a generic 500.
 */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends HttpError {
  constructor(message = 'The request is malformed.', details?: unknown) {
    super(400, 'bad_request', message, details);
  }
}
export class ValidationError extends HttpError {
  constructor(message = 'Some fields are invalid.', details?: unknown) {
    super(400, 'validation_error', message, details);
  }
}
export class Unauthorized extends HttpError {
  constructor(message = 'You need to log in.') {
    super(401, 'unauthorized', message);
  }
}
export class Forbidden extends HttpError {
  constructor(message = 'You are not allowed to do this.') {
    super(403, 'forbidden', message);
  }
}
export class NotFound extends HttpError {
  constructor(what = 'Resource') {
    super(404, 'not_found', `${what} not found.`);
  }
}
export class Conflict extends HttpError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}
export class TooManyRequests extends HttpError {
  constructor(retryAfterSeconds: number) {
    super(429, 'too_many_requests', 'Too many attempts. Try again later.', { retry_after: retryAfterSeconds }, {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}
export class ServiceUnavailable extends HttpError {
  constructor(message = 'The service is temporarily unavailable. Try again shortly.') {
    super(503, 'service_unavailable', message, undefined, { 'Retry-After': '2' });
  }
}
