// The process node's checked-in mapping from container images to local
// commands: the image's last path segment (without registry and tag) names
// a program of this repository.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalCommand {
  command: string;
  args: string[];
}

const programs: Record<string, LocalCommand> = {
  downloader: { command: process.execPath, args: [`${root}images/downloader/main.ts`] },
  operator: { command: process.execPath, args: [`${root}operator/main.ts`] },
  api: { command: process.execPath, args: [`${root}api/main.ts`] },
};

/** "ghcr.io/vdl-dev/downloader:0.1.0" → "downloader". */
export function programOf(image: string): string {
  const withoutDigest = image.split('@')[0] as string;
  const last = withoutDigest.split('/').pop() as string;
  return last.split(':')[0] as string;
}

export function localCommandFor(image: string): LocalCommand | undefined {
  return programs[programOf(image)];
}
