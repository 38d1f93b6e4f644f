// How much disk one download may fill, shared by the operator (which sizes
// the pod's work dir and ephemeral storage from it) and the downloader (whose
// guard stops yt-dlp past it): a merge of separate video and audio streams
// holds both streams and the merged file at once, about twice the file.

/** Room beside the media: info JSON, subtitles, thumbnails, fragment bookkeeping. */
export const workDirSlackBytes = 256 * 2 ** 20;

/**
 * Bytes the work dir may hold for a file of at most maxFileSize: twice the
 * file plus the slack, at most cap (the operator's work dir size limit).
 */
export function workDirLimit(maxFileSize: number, cap = Number.POSITIVE_INFINITY): number {
  return Math.min(2 * maxFileSize + workDirSlackBytes, cap);
}
