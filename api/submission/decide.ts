// What a submission becomes, decided without I/O: the refusal, the download
// an Idempotency-Key already names, or the name and object to create; and
// what a failed create means. api/submission/write.ts does the writing.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { finalizers, labels, type NotifySpec, type VideoDownload } from '../../crds/video-download.ts';
import type { CreateOptions } from '../../lib/kube/video-downloads.ts';
import type { Caller } from '../api-keys.ts';
import { apiServerRefusal } from '../api-server-refusal.ts';
import { visibleTo } from '../callers.ts';
import { type ProblemError, problems } from '../problem.ts';
import { requestDigest, requestDigestAnnotation } from '../request-digest.ts';
import { type downloadRequest, IdempotencyKey, kubectlOnlyRefusal } from '../schemas.ts';

/** A spec as the API takes it: without the kubectl-only fields, the URL canonical. */
export type RequestedSpec = z.output<ReturnType<typeof downloadRequest>>;
/** What the API creates: the request, with the webhook it gets (api/webhooks.ts) as its notify. */
export type SubmittedSpec = Omit<RequestedSpec, 'notify'> & { notify?: NotifySpec };

/** The spec a body asks for (its URL in canonical form: what is checked is what is stored), or its 422. */
export function readSubmission(
  body: unknown,
  schema: ReturnType<typeof downloadRequest>,
): { spec: RequestedSpec } | { refusal: ProblemError } {
  const kubectlOnly = kubectlOnlyRefusal(body);
  if (kubectlOnly) return { refusal: problems.unprocessable(kubectlOnly) };
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { refusal: problems.unprocessable(z.prettifyError(parsed.error)) };
  return { spec: parsed.data };
}

export interface SubmissionInput {
  spec: SubmittedSpec;
  caller: Caller;
  /** The Idempotency-Key header, if sent. */
  idempotencyKey: string | undefined;
  /** The cached download of a name in the API's namespace. */
  cached: (name: string) => VideoDownload | undefined;
  /** 20 hex digits of fresh randomness, the name of a submission without a key. */
  randomId: string;
}

export type Submission = { name: string; digest: string; idempotent: boolean };

export type SubmissionDecision =
  | { kind: 'refuse'; problem: ProblemError }
  | { kind: 'replay'; name: string; download: VideoDownload }
  | ({ kind: 'create'; create: CreateOptions } & Submission);

/** Undefined for a download the caller may not see; else it, if the same request made it, or the 422. */
export function replayOf(
  download: VideoDownload,
  caller: Caller,
  digest: string,
): SubmissionDecision | undefined {
  if (!visibleTo(download, caller)) return undefined;
  const name = download.metadata.name as string;
  // A key names one request (the IETF Idempotency-Key draft): the same key with another body is refused.
  if (download.metadata.annotations?.[requestDigestAnnotation] === digest)
    return { kind: 'replay', name, download };
  return {
    kind: 'refuse',
    problem: problems.unprocessable(
      'Idempotency-Key was already used with a different request body; use a new key for a new request',
    ),
  };
}

export function decideSubmission(input: SubmissionInput): SubmissionDecision {
  const { idempotencyKey, caller } = input;
  if (idempotencyKey !== undefined && !IdempotencyKey.safeParse(idempotencyKey).success)
    return {
      kind: 'refuse',
      problem: problems.badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters'),
    };
  // The same key from the same user names the same resource: replicas agree without shared state.
  const name = idempotencyKey
    ? `dl-${createHash('sha256').update(`${caller.user}\0${idempotencyKey}`).digest('hex').slice(0, 20)}`
    : `dl-${input.randomId}`;
  const digest = requestDigest(input.spec);
  if (idempotencyKey) {
    const existing = input.cached(name);
    const replay = existing && replayOf(existing, caller, digest);
    if (replay) return replay;
  }
  return {
    kind: 'create',
    name,
    digest,
    idempotent: Boolean(idempotencyKey),
    create: {
      labels: { [labels.owner]: caller.user },
      annotations: { [requestDigestAnnotation]: digest },
      // The operator's finalizer comes with the create: one write fewer per download (issue 17).
      finalizers: [finalizers.storedObject],
    },
  };
}

/** The 429 of a caller at the cap on unfinished downloads. */
export function quotaRefusal(active: number, limit: number): ProblemError {
  return problems.tooManyRequests(`you have ${active} unfinished downloads; the limit is ${limit}`, 30);
}

export interface CreateFailure {
  /** Nothing was created, so the quota slot goes back. */
  releaseSlot: boolean;
  /** A twin request with the same key made it: look it up and answer with it. */
  lookUpTwin: boolean;
  /** Our own answer, else the error stands (a 500). */
  problem?: ProblemError;
}

/** What a create the API server did not answer with the object means (code undefined: no answer). */
export function createFailure(code: number | undefined, body: unknown, idempotent: boolean): CreateFailure {
  // A 4xx says nothing was created (409 is the same job made by a twin request, which keeps the
  // slot); after a 5xx or a broken connection the create may have happened, so the slot stays
  // until the download shows up or its reservation's grace ends.
  const refused = code !== undefined && code >= 400 && code < 500;
  return {
    releaseSlot: refused && code !== 409,
    lookUpTwin: code === 409 && idempotent,
    // Never the API server's own words: its Status quotes values and schema internals.
    ...(code === 422 ? { problem: problems.unprocessable(apiServerRefusal(body)) } : {}),
  };
}
