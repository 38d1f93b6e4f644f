// The OpenAPI 3.1 document, generated from the same zod schemas that
// validate requests and shape responses. OpenAPI 3.1 uses JSON Schema
// 2020-12, which is what zod writes, so the schemas go in unchanged.
import { z } from 'zod';
import {
  Accepted,
  DownloadList,
  DownloadRequest,
  Forgotten,
  IdempotencyKey,
  Problem,
  ResultResponse,
  StatusResponse,
  states,
} from './schemas.ts';
import { TicketResponse } from './tickets.ts';

const component = (schema: z.ZodType, io: 'input' | 'output' = 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const jobIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The job id.',
};
const secured = [{ apiKey: [] }];
const common = {
  '401': problem('No or unknown API key.'),
  '404': problem("Unknown job, or another user's."),
};

let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'vdl',
      version: '0.1.0',
      description:
        'Submit a video URL, follow its progress, fetch the file. Every download is a VideoDownload resource.',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from the vdl-api-keys Secret.' },
      },
      schemas: {
        DownloadRequest: component(DownloadRequest, 'input'),
        Accepted: component(Accepted),
        Status: component(StatusResponse),
        Result: component(ResultResponse),
        Forgotten: component(Forgotten),
        DownloadList: component(DownloadList),
        Problem: component(Problem),
        Ticket: component(TicketResponse),
      },
    },
    paths: {
      '/download': {
        post: {
          summary: 'Submit a download',
          security: secured,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: component(IdempotencyKey),
            },
          ],
          requestBody: { required: true, content: json('DownloadRequest') },
          responses: {
            '202': { description: 'Accepted.', content: json('Accepted') },
            '400': problem('Body is not JSON, or a bad header.'),
            '401': common['401'],
            '403': problem('notify asked for by a key without a webhook signing Secret.'),
            '413': problem('Body too large.'),
            '415': problem('Body is not application/json.'),
            '422': problem(
              'Invalid options (naming the field), a field only kubectl users may set (storage, cookies), a URL that is not allowed, or an Idempotency-Key already used with a different body.',
            ),
            '429': problem(
              'Rate limit or unfinished-download quota reached; see Retry-After. The rate limit is per user and per API replica (with N replicas behind a load balancer a user gets up to N times the rate) and counts every submission, refused ones (4xx) too. The quota is shared by all replicas: each slot is reserved through the API server before the download is created.',
            ),
            '503': problem('Too many submissions of one user at once to reserve a slot; see Retry-After.'),
          },
        },
      },
      '/status/{id}': {
        get: {
          summary: 'Status of a download, live or archived',
          security: secured,
          parameters: [jobIdParameter],
          responses: {
            '200': { description: 'The status.', content: json('Status') },
            ...common,
            '503': problem('Not live, and the archive cannot be read now.'),
          },
        },
      },
      '/tickets': {
        post: {
          summary: 'A short-lived ticket that opens live streams, for browsers',
          description:
            "Browsers cannot send an Authorization header with a WebSocket or an EventSource. Instead of the key in the URL, they ask for a ticket with the key and pass it as `?ticket=` to `GET /ws` or `GET /status/{id}/events`. A ticket opens streams only (no other route accepts it), as the key's user, until `expires_at` (60 s by default; it may be used more than once until then); any API replica accepts it (HMAC-signed with a key all replicas share); revoking the key refuses its tickets and ends the streams they opened. `?access_token=<API key>` is no longer accepted.",
          security: secured,
          responses: {
            '200': { description: 'A ticket.', content: json('Ticket') },
            '401': common['401'],
          },
        },
      },
      '/status/{id}/events': {
        get: {
          summary: 'Live status as Server-Sent Events; ends after the terminal state',
          description:
            'Every event carries an `id:` (the resource version of the status it shows). A client that reconnects (after an API restart, say) sends the last id it saw in `Last-Event-ID`: the stream starts with the current status unless that is exactly what the client already has, so the terminal state is never missed. A deleted download ends the stream with `event: deleted`. Each user may hold a limited number of live streams (SSE and WebSocket together, 20 by default) per API replica; beyond it the answer is 429.',
          security: secured,
          parameters: [
            jobIdParameter,
            {
              name: 'ticket',
              in: 'query',
              required: false,
              description:
                'A ticket from POST /tickets, instead of the Authorization header (EventSource sends none).',
              schema: { type: 'string', maxLength: 512 },
            },
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              description: 'The `id:` of the last event received, when resuming.',
              schema: { type: 'string', maxLength: 64 },
            },
          ],
          responses: {
            '200': {
              description: 'A text/event-stream of "status" events (data: Status).',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...common,
            '429': problem('Too many live streams open for this user on this replica; see Retry-After.'),
          },
        },
      },
      '/result/{id}': {
        get: {
          summary: 'The stored file: a presigned URL, or where it lies on a volume',
          security: secured,
          parameters: [
            jobIdParameter,
            {
              name: 'redirect',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['true', 'false'] },
            },
          ],
          responses: {
            '200': { description: 'Where to fetch the file.', content: json('Result') },
            '302': { description: 'Redirect to the file (redirect=true).' },
            ...common,
            '409': problem(
              'Not done yet, failed, its recorded file lies outside its own storage, or redirect=true for a file on a volume.',
            ),
            '410': problem('The file is no longer stored (its download deleted, or expired).'),
            '503': problem('Object storage is not configured, or it or the archive cannot be reached now.'),
          },
        },
      },
      '/downloads': {
        get: {
          summary: "The caller's downloads, live and archived, newest first",
          security: secured,
          parameters: [
            { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: [...states] } },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 200 },
            },
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 400 } },
            {
              name: 'from',
              in: 'query',
              required: false,
              description: 'Created at or after this date or date-time (UTC).',
              schema: { type: 'string', format: 'date-time' },
            },
            {
              name: 'to',
              in: 'query',
              required: false,
              description: 'Created before this date or date-time (UTC).',
              schema: { type: 'string', format: 'date-time' },
            },
            {
              name: 'q',
              in: 'query',
              required: false,
              description: 'Text in the title or the URL, case-insensitively.',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
          ],
          responses: {
            '200': { description: 'A page.', content: json('DownloadList') },
            '400': problem(
              'Bad query: a filter that is not a state or a date, or a cursor this API did not hand out.',
            ),
            '401': common['401'],
            '503': problem('The archive cannot be read now.'),
          },
        },
      },
      '/history': {
        delete: {
          summary: "Forget the caller's archived history",
          description:
            "Deletes every archived record of the caller's finished downloads that are gone from the cluster. Their files stay as each download's deletion policy left them; downloads still in the cluster are not touched (DELETE /downloads/{id} cancels or removes those).",
          security: secured,
          responses: {
            '200': { description: 'How many records went.', content: json('Forgotten') },
            '401': common['401'],
            '503': problem('The archive cannot be written now.'),
          },
        },
      },
      '/downloads/{id}': {
        delete: {
          summary:
            'Cancel a running download, or remove a finished one (and its file, per its deletion policy)',
          security: secured,
          parameters: [jobIdParameter],
          responses: { '202': { description: 'Deletion started.' }, ...common },
        },
      },
      '/ws': {
        get: {
          summary: 'WebSocket: send {"subscribe": [ids]}, receive a status message per change',
          description: [
            'Authenticate with the Authorization header or, from a browser, `?ticket=` (POST /tickets).',
            'Each subscribe message names 1 to 100 ids and is answered with the current status of each id it names, then a message per change: `{"type": "status", ...Status}`, or `{"type": "deleted", "job_id"}` once a download is deleted; the server closes with 1000 once nothing followed is unfinished. An id named again, in one message or many, is followed once.',
            'Limits (the defaults; VDL_API_MAX_IDS_PER_SOCKET, VDL_API_SUBSCRIBE_PER_MINUTE and _BURST, VDL_API_MAX_LIVE_CONNECTIONS_PER_USER): a socket follows at most 100 unfinished downloads (a message that would exceed it is answered `{"type": "error", "detail"}` and changes nothing); an unknown id, or another user\'s, is answered `{"type": "error", "job_id", "detail": "not found"}`; a user may send 60 subscribe messages a minute over all their sockets (burst 20): the one beyond is answered with an error message and the socket is closed with 1008; a user may hold 20 live streams (WebSockets and SSE together): the upgrade beyond is refused with 429. The rate and the stream count are per API replica.',
            'After any close other than 1000 or 1008, reconnect and subscribe again.',
          ].join('\n\n'),
          security: secured,
          parameters: [
            {
              name: 'ticket',
              in: 'query',
              required: false,
              description: 'A ticket from POST /tickets, instead of the Authorization header.',
              schema: { type: 'string', maxLength: 512 },
            },
          ],
          responses: {
            '101': { description: 'Switching protocols.' },
            '401': common['401'],
            '426': problem('A plain HTTP request, not a WebSocket upgrade.'),
            '429': problem('Too many live streams open for this user on this replica; see Retry-After.'),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1.' } } },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'Alive.' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: caches synced',
          description:
            'Ready (200) once the caches have synced. While the Kubernetes API server is unreachable the API stays ready and serves reads from its cache: the body then says `"status": "degraded"` and since when (`unreachableSince`); submissions and cancellations fail until it is back.',
          responses: {
            '200': { description: 'Ready; `status` is `ok` or `degraded`.' },
            '503': { description: 'Not ready: the caches have not synced.' },
          },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Metrics.' } } },
      },
    },
  };
  return cached;
}
