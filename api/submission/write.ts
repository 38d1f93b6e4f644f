// The write of a submission decided in api/submission/decide.ts: reserve the
// caller's quota slot through the API server, create the VideoDownload, and
// give the slot back when the API server says nothing was created.
import type { Logger } from 'pino';
import type { VideoDownload } from '../../crds/video-download.ts';
import type { CreateOptions, VideoDownloads, VideoDownloadsError } from '../../lib/kube/video-downloads.ts';
import type { Caller } from '../api-keys.ts';
import type { Quota } from '../quota.ts';
import { createFailure, quotaRefusal, replayOf, type Submission, type SubmittedSpec } from './decide.ts';

export interface SubmissionWriter {
  client: VideoDownloads;
  quota: Pick<Quota, 'reserve' | 'release'>;
  /** The cap on unfinished downloads per user, for the refusal's words. */
  limit: number;
  logger: Logger;
  /** Counts each outcome (vdl_api_submissions_total). */
  count: (result: 'quota' | 'accepted') => void;
}

/** Creates the download, or answers with its twin; throws the ProblemError or the client's error. */
export async function writeSubmission(
  deps: SubmissionWriter,
  caller: Caller,
  spec: SubmittedSpec,
  submission: Submission & { create: CreateOptions },
): Promise<VideoDownload> {
  const { name } = submission;
  // The slot is reserved before the create, through the API server, so racing replicas cannot overbook.
  const quota = await deps.quota.reserve(caller.user, name);
  if (!quota.allowed) {
    deps.count('quota');
    throw quotaRefusal(quota.active, deps.limit);
  }
  try {
    const created = await deps.client.create(name, spec, submission.create);
    deps.count('accepted');
    deps.logger.info({ download: name, user: caller.user }, 'accepted');
    return created;
  } catch (error) {
    const failure = createFailure(
      (error as VideoDownloadsError).code,
      (error as VideoDownloadsError).body,
      submission.idempotent,
    );
    if (failure.releaseSlot)
      await deps.quota.release(caller.user, name).catch((releaseError: unknown) => {
        deps.logger.warn({ err: String(releaseError), download: name }, 'quota slot not given back');
      });
    if (failure.lookUpTwin) {
      const replay = replayOf(await deps.client.get(name), caller, submission.digest);
      if (replay?.kind === 'replay') return replay.download;
      if (replay?.kind === 'refuse') throw replay.problem;
    }
    throw failure.problem ?? error;
  }
}
