import { describe, expect, it } from 'vitest';
import { maxMessageLength, printableText, statusMessage } from './status-text.ts';

const printable = /^[^\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Cf}\uFFFD]*$/u;

describe('statusMessage', () => {
  it.each([
    ['plain text stays', 'HTTP Error 404: Not Found', 'HTTP Error 404: Not Found'],
    ['control characters become spaces', 'bad\u0000\u0007line\r\nnext\u001b[31mred', 'bad line next [31mred'],
    ['bidi overrides go', 'file \u202Egnp.exe', 'file gnp.exe'],
    [
      'binary (undecodable bytes) is no longer bytes',
      Buffer.from([0x00, 0x00, 0x01, 0xba, 0x44, 0xff, 0xfe, 0x66, 0x74, 0x79, 0x70]).toString('utf8'),
      'D ftyp',
    ],
    ['a lone surrogate goes', 'a\uD800b', 'a b'],
    ['emoji and accents stay', 'Vidéo 🎬 — 東京', 'Vidéo 🎬 — 東京'],
    [
      "the pod's file paths are cut to the file name",
      "ERROR: unable to open for writing: [Errno 36] File name too long: '/tmp/vdl-work-x1/work/out/Some title [id].mp4.part'",
      "ERROR: unable to open for writing: [Errno 36] File name too long: 'Some title [id].mp4.part'",
    ],
    [
      'a path after = or (',
      'open(/work/out/a.mp4) path=/var/run/secrets/vdl/token',
      'open(a.mp4) path=token',
    ],
    [
      'URLs keep their paths',
      'Unable to download https://example.com/media/clip.mp4',
      'Unable to download https://example.com/media/clip.mp4',
    ],
    ['nothing left says so', '\u0000\u0001', 'no message'],
  ])('%s', (_name, input, expected) => {
    expect(statusMessage(input)).toBe(expected);
  });

  it('bounds an overlong message, ending it with an ellipsis', () => {
    const message = statusMessage('x'.repeat(100_000));
    expect(message).toHaveLength(maxMessageLength);
    expect(message.endsWith('…')).toBe(true);
  });

  it('never cuts a surrogate pair in half', () => {
    for (const length of [10, 11]) {
      const message = statusMessage('🎬'.repeat(50), length);
      expect(message.length).toBeLessThanOrEqual(length);
      expect(message).toMatch(printable);
    }
  });

  it('is printable whatever the input', () => {
    const everything = Array.from({ length: 0x3000 }, (_, i) => String.fromCharCode(i)).join('');
    expect(statusMessage(everything)).toMatch(printable);
  });
});

describe('printableText', () => {
  it.each([
    ['keeps slashes of a title', 'AC/DC /live/ 1/2', 200, 'AC/DC /live/ 1/2'],
    ['shortens to the limit', 'a'.repeat(1500), 1024, `${'a'.repeat(1023)}…`],
    ['drops control characters', 'Title\u0000\nline', 200, 'Title line'],
  ])('%s', (_name, input, max, expected) => {
    expect(printableText(input, max)).toBe(expected);
  });
});
