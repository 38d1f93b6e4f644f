// GET /downloads as a pure function: the caller's downloads in a state,
// newest first, a page at a time behind an opaque cursor.
import type { VideoDownload } from '../crds/video-download.ts';
import type { State } from './schemas.ts';
import { stateOf, statusView } from './status-view.ts';

// The cursor is the last item's (creationTimestamp, name), so pages stay stable as new ones arrive.
const order = (d: VideoDownload) => `${d.metadata.creationTimestamp ?? ''}|${d.metadata.name}`;

export function pageOf(
  downloads: VideoDownload[],
  query: { state?: State; limit: number; cursor?: string },
): { items: ReturnType<typeof statusView>[]; next_cursor: string | null } {
  const { state, limit, cursor } = query;
  let items = downloads
    .filter((d) => !state || stateOf(d) === state)
    .sort((a, b) => order(b).localeCompare(order(a)));
  if (cursor) {
    const after = Buffer.from(cursor, 'base64url').toString('utf8');
    items = items.filter((d) => order(d) < after);
  }
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(statusView),
    next_cursor: items.length > limit && last ? Buffer.from(order(last)).toString('base64url') : null,
  };
}
