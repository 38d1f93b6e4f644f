import { describe, expect, it } from 'vitest';
import { skippedStep } from './skipped-steps.ts';

describe('skippedStep', () => {
  it.each([
    [
      '[SponsorBlock] SponsorBlock is not supported for Generic',
      /^sponsorBlock: .*not Generic's; the file is stored whole$/,
    ],
    ["[EmbedSubtitle] There aren't any subtitles to embed", /^subtitles\.embed: /],
    [
      "[EmbedThumbnail] There aren't any thumbnails to embed",
      /^embed\.thumbnail: the site offers no thumbnail/,
    ],
    [
      "WARNING: The file format doesn't support embedding a thumbnail",
      /^embed\.thumbnail: the file's format/,
    ],
  ])('names the field whose step did nothing: %s', (line, said) => {
    expect(skippedStep(line)).toMatch(said);
  });

  it('says nothing of the lines of steps that worked', () => {
    expect(skippedStep('[EmbedThumbnail] mutagen: Adding thumbnail to "out.mp4"')).toBeUndefined();
    expect(skippedStep('[Metadata] Adding metadata to "out.mp4"')).toBeUndefined();
  });
});
