// The REST vocabulary of a download's state, mapped from the resource's
// phase in one place: the API answers with it, and the operator's webhook
// events say the same word for the same download.
import type { phases } from './video-download.ts';

export const states = ['PENDING', 'QUEUED', 'IN_PROGRESS', 'DONE', 'FAILED'] as const;
export type State = (typeof states)[number];

/** The one place where the resource's phase becomes the API's state. */
export const stateOfPhase: Record<(typeof phases)[number] | 'None', State> = {
  None: 'PENDING',
  Pending: 'PENDING',
  Queued: 'QUEUED',
  Running: 'IN_PROGRESS',
  Succeeded: 'DONE',
  Failed: 'FAILED',
};
