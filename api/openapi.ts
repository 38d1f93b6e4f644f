// The OpenAPI 3.1 document, generated from the same zod schemas that
// validate requests and shape responses. OpenAPI 3.1 uses JSON Schema
// 2020-12, which is what zod writes, so the schemas go in unchanged.
import { z } from 'zod';
import {
  Accepted,
  DownloadList,
  DownloadRequest,
  IdempotencyKey,
  Problem,
  ResultResponse,
  StatusResponse,
  states,
} from './schemas.ts';

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
        DownloadList: component(DownloadList),
        Problem: component(Problem),
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
            '413': problem('Body too large.'),
            '415': problem('Body is not application/json.'),
            '422': problem('Invalid options, or a URL that is not allowed.'),
            '429': problem(
              'Rate limit or unfinished-download quota reached; see Retry-After. The rate limit is per user and per API replica (with N replicas behind a load balancer a user gets up to N times the rate) and counts every submission, refused ones (4xx) too.',
            ),
          },
        },
      },
      '/status/{id}': {
        get: {
          summary: 'Status of a download',
          security: secured,
          parameters: [jobIdParameter],
          responses: { '200': { description: 'The status.', content: json('Status') }, ...common },
        },
      },
      '/status/{id}/events': {
        get: {
          summary: 'Live status as Server-Sent Events; ends after the terminal state',
          description:
            'Every event carries an `id:` (the resource version of the status it shows). A client that reconnects (after an API restart, say) sends the last id it saw in `Last-Event-ID`: the stream starts with the current status unless that is exactly what the client already has, so the terminal state is never missed.',
          security: secured,
          parameters: [
            jobIdParameter,
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
          },
        },
      },
      '/result/{id}': {
        get: {
          summary: 'The stored file: a presigned URL',
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
            '409': problem('Not done yet, or failed.'),
            '410': problem('The file is no longer stored.'),
          },
        },
      },
      '/downloads': {
        get: {
          summary: "The caller's downloads, newest first",
          security: secured,
          parameters: [
            { name: 'state', in: 'query', required: false, schema: { type: 'string', enum: [...states] } },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 200 },
            },
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'A page.', content: json('DownloadList') },
            '400': problem('Bad query.'),
            '401': common['401'],
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
          description:
            'Each subscribe is answered with the current status of every id followed (a full resync), then a message per change; the server closes with 1000 once all are finished. After any other close, reconnect and subscribe again.',
          security: secured,
          responses: {
            '101': { description: 'Switching protocols.' },
            '401': common['401'],
            '426': problem('A plain HTTP request, not a WebSocket upgrade.'),
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
