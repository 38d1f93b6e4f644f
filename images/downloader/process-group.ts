// yt-dlp runs in a process group of its own (execa's detached), so stopping
// it also stops the ffmpeg it started for a live stream or a merge, which
// would otherwise go on writing into the work dir.

export function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
