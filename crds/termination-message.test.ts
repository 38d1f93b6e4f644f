import { describe, expect, it } from 'vitest';
import {
  maxTerminationMessageBytes,
  parseTerminationMessage,
  terminationMessageText,
} from './termination-message.ts';

const prefix = `videos/${'n'.repeat(63)}/${'d'.repeat(200)}/0b7a3f0e-5f7c-4f0e-9a57-3c1f1d2e4b5a/`;
const result = {
  bucket: 'vdl',
  key: `${prefix}${'T'.repeat(160)}.mp4`,
  filename: `${'T'.repeat(160)}.mp4`,
  size: 1,
  sha256: 'a'.repeat(64),
  contentType: 'video/mp4',
  infoKey: `${prefix}info.json`,
};

describe('terminationMessageText', () => {
  it('leaves a message that fits as it is', () => {
    const message = { result: { ...result, title: 'A clip' } };
    expect(terminationMessageText(message)).toBe(JSON.stringify(message));
  });

  it.each([
    ['a long title in a three-byte script', '東'.repeat(1024)],
    ['a long title of emoji', '🎬'.repeat(512)],
  ])('shortens %s so the whole result still reaches the operator', (_name, title) => {
    const text = terminationMessageText({ result: { ...result, title } });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxTerminationMessageBytes);
    const parsed = parseTerminationMessage(text);
    expect(parsed && 'result' in parsed && parsed.result).toMatchObject({
      key: result.key,
      sha256: result.sha256,
    });
    const kept = parsed && 'result' in parsed ? parsed.result.title : undefined;
    expect(kept?.length).toBeGreaterThan(100);
    expect(title.startsWith(kept?.replace(/…$/, '') ?? 'x')).toBe(true);
  });

  it('shortens an error message of many-byte characters', () => {
    const text = terminationMessageText({ error: { reason: 'DownloadFailed', message: '🎬'.repeat(1000) } });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxTerminationMessageBytes);
    expect(parseTerminationMessage(text)).toMatchObject({ error: { reason: 'DownloadFailed' } });
  });
});
