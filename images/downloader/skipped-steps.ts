// yt-dlp's words when a post-processing step the spec asked for did nothing,
// and the download still succeeds: a user who asked for SponsorBlock on a site
// it does not know should read why the file is whole. Pure: a line in, a
// sentence out.

const skips: Array<{ pattern: RegExp; say: (match: RegExpExecArray) => string }> = [
  {
    pattern: /SponsorBlock is not supported for (\S+)/,
    say: (m) =>
      `sponsorBlock: SponsorBlock knows YouTube videos only, not ${m[1]}'s; the file is stored whole`,
  },
  {
    pattern: /There aren't any subtitles to embed/,
    say: () => 'subtitles.embed: the site offers no subtitles in the languages asked for',
  },
  {
    pattern:
      /There aren't any thumbnails to embed|There are no thumbnails on disk|Skipping embedding the thumbnail/,
    say: () => 'embed.thumbnail: the site offers no thumbnail to embed',
  },
  {
    pattern: /The file format doesn't support embedding a thumbnail/,
    say: () => "embed.thumbnail: the file's format cannot hold a thumbnail",
  },
];

/** What a step that was asked for skipped, if this line of yt-dlp's output says so. */
export function skippedStep(line: string): string | undefined {
  for (const { pattern, say } of skips) {
    const match = pattern.exec(line);
    if (match) return say(match);
  }
  return undefined;
}
