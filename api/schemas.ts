// The REST API's request and response shapes. The request body is the
// VideoDownload spec itself (same zod schema as the CRD), so the API cannot
// accept what the API server would refuse. The OpenAPI document is built
// from these.
import { z } from 'zod';
import { states } from '../crds/rest-state.ts';
import {
  maxUrlLength,
  stages,
  urlField,
  VideoDownloadSpecFields,
  withCrossFieldRules,
} from '../crds/video-download.ts';

export { type State, stateOfPhase, states } from '../crds/rest-state.ts';

// Only kubectl users, who hold RBAC on the resource, may set these. Cookies
// come from a Secret in the shared namespace, which API users cannot create
// and must not read each other's of. Storage would name someone else's
// bucket (the downloader creates missing ones), a prefix outside the
// operator's layout, or a deletion policy that lets a file outlive DELETE.
export const kubectlOnlyFields = ['cookies', 'storage'] as const;

/** The request body, with URLs of at most maxUrlLength characters as written (the API's VDL_API_MAX_URL_LENGTH). */
export function downloadRequest(urlLength: number = maxUrlLength) {
  const fields = VideoDownloadSpecFields.omit({ cookies: true, storage: true })
    .extend({
      url: urlField(urlLength),
      // Where the event goes; the signing Secret is the user's (api/webhooks.ts), never the request's.
      notify: z
        .strictObject({
          url: urlField(urlLength, {
            path: 'notify.url',
            name: 'notify.url',
            description:
              "Where the completion event is POSTed, signed with your API key's webhook Secret; unset: your default webhook, if any.",
          }),
        })
        .optional()
        .describe(
          "A webhook for this download's completion event, signed with the Secret an admin set for your key.",
        ),
    })
    .describe(
      "What to download: the VideoDownload spec, without cookies and storage, which only kubectl users may set, and with notify.url only (the signing Secret is your key's).",
    );
  return withCrossFieldRules(fields);
}

export const DownloadRequest = downloadRequest();

/** The 422 detail for a body that sets a field only kubectl users may set, if it does. */
export function kubectlOnlyRefusal(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const field = kubectlOnlyFields.find((name) => Object.hasOwn(body, name));
  const notify = (body as { notify?: unknown }).notify;
  if (notify && typeof notify === 'object' && Object.hasOwn(notify, 'secretRef'))
    return "notify.secretRef: only kubectl users may name a signing Secret; an API user's events are signed with the one an admin set for their key";
  return field && `${field}: only kubectl users may set ${field}; leave it out and the operator chooses`;
}

export const JobId = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/)
  .describe('The job id: the name of its VideoDownload.');

export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/)
  .describe(
    'Repeat a request without a second download: 1 to 255 visible ASCII characters. The same key with a different body is refused with 422.',
  );

export const Accepted = z
  .object({
    job_id: JobId,
    state: z.enum(states),
    status_url: z.string(),
    result_url: z.string(),
  })
  .describe('The download was accepted.');

export const StatusResponse = z
  .object({
    job_id: JobId,
    state: z.enum(states),
    url: z.string(),
    title: z.string().nullable(),
    progress: z.object({
      percent: z.number().nullable(),
      downloaded_bytes: z.number().nullable(),
      total_bytes: z.number().nullable(),
      speed: z.number().nullable().describe('Bytes per second.'),
      eta: z.number().nullable().describe('Seconds.'),
      stage: z.enum(stages).nullable(),
    }),
    created_at: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    attempts: z.number().int(),
    error: z.object({ reason: z.string(), message: z.string() }).nullable(),
  })
  .describe('Where a download is.');

export const ResultResponse = z
  .object({
    url: z
      .string()
      .nullable()
      .describe('Presigned, short-lived URL of the file; null for a file written onto a volume.'),
    expires_at: z.string().optional().describe('When url stops working.'),
    volume: z
      .object({
        claim_name: z.string().describe('The PersistentVolumeClaim holding the file.'),
        path: z.string().describe("The file's path under the volume's root."),
        preexisting: z
          .boolean()
          .describe('The same bytes were there before this download; deleting it leaves the file.'),
      })
      .optional()
      .describe(
        'Where the file lies, for a download written onto a volume (set with kubectl: storage.volume).',
      ),
    filename: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    content_type: z.string(),
    title: z.string().nullable(),
    duration: z.number().nullable(),
  })
  .describe('The stored file: a link to fetch it from object storage, or where it lies on a volume.');

export const Forgotten = z
  .object({ forgotten: z.number().int().min(0).describe('Archived records deleted.') })
  .describe("The caller's archived history, forgotten.");

export const DownloadList = z
  .object({ items: z.array(StatusResponse), next_cursor: z.string().nullable() })
  .describe("A page of the caller's downloads, newest first.");

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
  })
  .describe('An RFC 9457 problem.');

/** RFC 3339 allows a leap second (:60), which Date cannot hold: read as the second before it. */
const parsedDate = (text: string) => new Date(text.replace(/(T\d{2}:\d{2}):60/i, '$1:59'));

const listDate = (name: string) =>
  z
    .string()
    .refine(
      (text) =>
        /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/i.test(text) &&
        !Number.isNaN(parsedDate(text).getTime()),
      {
        message: `${name} must be a date such as 2026-12-01, or a date and time such as 2026-12-01T00:00:00Z`,
      },
    )
    .transform(parsedDate)
    .optional();

export const ListQuery = z.object({
  state: z.enum(states, { error: `state must be one of ${states.join(', ')}` }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
  from: listDate('from').describe('Created at or after this date (UTC).'),
  to: listDate('to').describe('Created before this date (UTC).'),
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Text found in the title or the URL, case-insensitively.'),
});
