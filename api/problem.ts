// Errors as application/problem+json (RFC 9457), thrown where they arise
// and written in one place.
export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly headers: Record<string, string>;

  constructor(status: number, title: string, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.status = status;
    this.title = title;
    this.headers = headers;
  }
}

export const problems = {
  badRequest: (detail: string) => new ProblemError(400, 'Bad Request', detail),
  unauthorized: () =>
    new ProblemError(401, 'Unauthorized', 'send an API key as "Authorization: Bearer <key>"', {
      'WWW-Authenticate': 'Bearer realm="vdl"',
    }),
  notFound: (what: string) => new ProblemError(404, 'Not Found', `${what} not found`),
  methodNotAllowed: (allow: string[]) =>
    new ProblemError(405, 'Method Not Allowed', `this path answers ${allow.join(', ')}`, {
      Allow: allow.join(', '),
    }),
  conflict: (detail: string) => new ProblemError(409, 'Conflict', detail),
  gone: (detail: string) => new ProblemError(410, 'Gone', detail),
  tooLarge: (limit: number) =>
    new ProblemError(413, 'Content Too Large', `the request body is over ${limit} bytes`),
  unsupportedMediaType: () =>
    new ProblemError(415, 'Unsupported Media Type', 'send the body as application/json'),
  upgradeRequired: () =>
    new ProblemError(426, 'Upgrade Required', 'this path speaks WebSocket only', {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
    }),
  forbidden: (detail: string) => new ProblemError(403, 'Forbidden', detail),
  unprocessable: (detail: string) => new ProblemError(422, 'Unprocessable Content', detail),
  tooManyRequests: (detail: string, retryAfter: number) =>
    new ProblemError(429, 'Too Many Requests', detail, { 'Retry-After': String(retryAfter) }),
  unavailable: (detail: string) => new ProblemError(503, 'Service Unavailable', detail),
};

export function problemBody(error: ProblemError, instance?: string) {
  return {
    type: `https://vdl.dev/problems/${error.status}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
  };
}
