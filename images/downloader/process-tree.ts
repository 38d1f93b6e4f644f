// Stopping yt-dlp with everything it started: for a live stream or a merge
// it runs ffmpeg, which would otherwise go on writing into the work dir and
// hold the output pipe open. The tree is read from /proc (the downloader
// runs on Linux); yt-dlp is stopped first so it starts nothing new meanwhile.
import { readdir, readFile } from 'node:fs/promises';

/** Parent of each process, from the fourth field of /proc/PID/stat (after the command in parentheses). */
export function parentOf(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const parent = Number(fields[1]);
  return Number.isInteger(parent) ? parent : undefined;
}

/** Every process below pid, given each process's parent. */
export function descendantsOf(pid: number, parents: Map<number, number>): number[] {
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parents].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

async function processParents(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const parent = stat ? parentOf(stat) : undefined;
    if (parent !== undefined) parents.set(Number(name), parent);
  }
  return parents;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export async function killTree(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  signal(pid, 'SIGSTOP');
  const tree = [pid, ...descendantsOf(pid, await processParents())];
  for (const member of tree) signal(member, 'SIGKILL');
}
