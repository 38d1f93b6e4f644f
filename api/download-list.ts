// GET /downloads as a pure function: the caller's downloads, live ones from
// the cache and finished ones from the archive, as one list, newest first
// (by creation, then name), a page at a time behind an opaque cursor.
import { kubernetesTime, type VideoDownload } from '../crds/video-download.ts';
import { problems } from './problem.ts';
import type { State } from './schemas.ts';
import { stateOf, statusView } from './status-view.ts';

/** Where a page ended: the last item's creation time and name. */
export interface ListCursor {
  createdAt: string;
  name: string;
}

// Names are DNS subdomains (kubectl may make 'talk.part1'): dots included.
const cursorPattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\|([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)$/;

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.createdAt}|${cursor.name}`).toString('base64url');
}

/** The cursor a page handed out; a 400 naming it for anything else (edited, cut, or made up). */
export function decodeCursor(text: string): ListCursor {
  const match = Buffer.from(text, 'base64url').toString('utf8').match(cursorPattern);
  if (!match || Number.isNaN(Date.parse(match[1] as string)))
    throw problems.badRequest('cursor: not a cursor this API handed out; start again without it');
  return { createdAt: match[1] as string, name: match[2] as string };
}

export interface ListFilter {
  state?: State | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  /** In the title or the URL, case-insensitively. */
  q?: string | undefined;
  limit: number;
  cursor?: ListCursor | undefined;
}

/** The order key: creation time at whole seconds (as Kubernetes writes it), then the name, compared as bytes. */
function orderOf(download: VideoDownload): string {
  const created = download.metadata.creationTimestamp;
  return `${created ? kubernetesTime(created) : ''}|${download.metadata.name}`;
}

/** Whether a live download passes the filter (the archive applies the same in SQL). */
export function matches(download: VideoDownload, filter: ListFilter): boolean {
  if (filter.state && stateOf(download) !== filter.state) return false;
  const created = Date.parse(download.metadata.creationTimestamp ?? '');
  if (filter.from && !(created >= filter.from.getTime())) return false;
  if (filter.to && !(created < filter.to.getTime())) return false;
  if (filter.q) {
    const term = filter.q.toLowerCase();
    const title = download.status?.result?.title ?? download.status?.progress?.title ?? '';
    if (!title.toLowerCase().includes(term) && !download.spec.url.toLowerCase().includes(term)) return false;
  }
  return true;
}

/**
 * One page of live downloads (all of the caller's, filtered here) merged with
 * archived ones (already filtered, after the cursor, at most limit + 1, and
 * none of them live): a download both live and archived is listed once, live.
 */
export function pageOf(
  live: VideoDownload[],
  archived: VideoDownload[],
  filter: ListFilter,
): { items: ReturnType<typeof statusView>[]; next_cursor: string | null } {
  const after = filter.cursor ? `${filter.cursor.createdAt}|${filter.cursor.name}` : undefined;
  const liveUids = new Set(live.map((d) => d.metadata.uid));
  const items = [
    ...live.filter((d) => matches(d, filter)),
    ...archived.filter((d) => !liveUids.has(d.metadata.uid)),
  ]
    .map((download) => ({ download, key: orderOf(download) }))
    .filter(({ key }) => after === undefined || key < after)
    .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const page = items.slice(0, filter.limit);
  const last = page.at(-1)?.download;
  return {
    items: page.map(({ download }) => statusView(download)),
    next_cursor:
      items.length > filter.limit && last
        ? encodeCursor({
            createdAt: kubernetesTime(last.metadata.creationTimestamp ?? 0),
            name: last.metadata.name as string,
          })
        : null,
  };
}
