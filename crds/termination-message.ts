// What a download pod writes to its termination message: the contract
// between the downloader and the operator, which records it in status.
import { z } from 'zod';
import { Result } from './video-download.ts';

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
