// Completion webhooks for API users. A user's signing Secret is set by an
// admin, in the key Secret's data key "webhooks" (JSON: user → {secretRef,
// url?}), never by a request: a request names only where its event goes
// (notify.url), or leaves that to the user's default url. So no one signs
// with, or learns of, another user's Secret.
import { z } from 'zod';
import { NotifySpec as NotifySchema, type NotifySpec } from '../crds/video-download.ts';
import { type ProblemError, problems } from './problem.ts';

export const UserWebhook = z.strictObject({
  secretRef: NotifySchema.shape.secretRef,
  url: NotifySchema.shape.url.optional(),
});
export type UserWebhook = z.output<typeof UserWebhook>;

/** Parses the "webhooks" text; a bad entry is reported and left out, not fatal (as a bad key line). */
export function parseWebhooks(text: string): { byUser: Map<string, UserWebhook>; errors: string[] } {
  const byUser = new Map<string, UserWebhook>();
  if (!text.trim()) return { byUser, errors: [] };
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    return { byUser, errors: ['webhooks: not JSON'] };
  }
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries))
    return { byUser, errors: ['webhooks: not an object of users'] };
  const errors: string[] = [];
  for (const [user, entry] of Object.entries(entries)) {
    const parsed = UserWebhook.safeParse(entry);
    if (parsed.success) byUser.set(user, parsed.data);
    else errors.push(`webhooks.${user}: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
  }
  return { byUser, errors };
}

/**
 * The spec.notify of a submission: the request's url or the user's default
 * one, signed with the user's Secret; none when neither names a url.
 */
export function submissionNotify(
  requested: { url: string } | undefined,
  webhook: UserWebhook | undefined,
): { notify: NotifySpec | undefined } | { refusal: ProblemError } {
  if (requested && !webhook)
    return {
      // Not the request's fault but the key's standing: a 403, as for other things a key may not do.
      refusal: problems.forbidden(
        'notify: your API key has no webhook signing Secret; an admin sets one in the API key Secret (data key webhooks)',
      ),
    };
  const url = requested?.url ?? webhook?.url;
  if (!url || !webhook) return { notify: undefined };
  return { notify: { url, secretRef: webhook.secretRef } };
}
