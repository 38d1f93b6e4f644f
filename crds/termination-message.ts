// What a download pod writes to its termination message: the contract
// between the downloader and the operator, which records it in status.
import { z } from 'zod';
import { printableText } from './status-text.ts';
import { Result } from './video-download.ts';

/** The kubelet keeps at most this many bytes of a termination message. */
export const maxTerminationMessageBytes = 4096;

export const DownloadFailure = z.object({
  reason: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]{0,63}$/)
    .describe('CamelCase reason, such as UnsupportedURL or FileTooLarge.'),
  message: z.string().max(2048).describe('One line for a person.'),
});

export const TerminationMessage = z.union([
  z.object({ result: Result }),
  z.object({ error: DownloadFailure }),
]);
export type TerminationMessage = z.output<typeof TerminationMessage>;
export type DownloadFailure = z.output<typeof DownloadFailure>;

/** Parses a termination message; undefined when it is absent or not ours. */
export function parseTerminationMessage(text: string | undefined): TerminationMessage | undefined {
  if (!text) return undefined;
  try {
    const parsed = TerminationMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The message as the pod writes it: whole JSON within the kubelet's 4096
 * bytes. A cut message would be no JSON at all and the operator would see no
 * result, so the free text (a title, an error's words) is shortened instead.
 */
export function terminationMessageText(message: TerminationMessage): string {
  const fits = (text: string) => Buffer.byteLength(text) <= maxTerminationMessageBytes;
  let text = JSON.stringify(message);
  if ('result' in message) {
    const result = { ...message.result };
    while (!fits(text) && result.title) {
      result.title = printableText(result.title, Math.floor(result.title.length / 2)) || undefined;
      text = JSON.stringify({ result });
    }
    if (!fits(text)) {
      result.filename = undefined;
      text = JSON.stringify({ result });
    }
  } else {
    const error = { ...message.error };
    while (!fits(text) && error.message.length > 1) {
      error.message = printableText(error.message, Math.floor(error.message.length / 2));
      text = JSON.stringify({ error });
    }
  }
  return text;
}
