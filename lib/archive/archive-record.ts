// What the archive keeps of a finished download: a pure function of the
// resource, so the same download always makes the same row (archiving is
// idempotent on its uid) and tests need no database.
import { labels, type VideoDownload } from '../../crds/video-download.ts';
import { storedText } from './stored-text.ts';

export interface ArchivedDownload {
  uid: string;
  namespace: string;
  name: string;
  owner: string;
  url: string;
  extractor: string | null;
  title: string | null;
  state: 'DONE' | 'FAILED';
  reason: string | null;
  size: number | null;
  sha256: string | null;
  bucket: string | null;
  objectKey: string | null;
  volumeClaim: string | null;
  volumePath: string | null;
  collection: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string;
  /** The resource as archived (JSON), without what only the cluster needs: GET /status answers from it. */
  record: string;
}

/** Query parameters that carry a secret in the URLs people paste (signed links, API tokens). */
const secretParameter =
  /^(x-amz-.*|x-goog-.*|token|access_token|refresh_token|id_token|auth|authorization|key|api_key|apikey|sig|signature|password|passwd|secret|session|sessionid|sid|policy|key-pair-id|expires)$/i;

/**
 * The URL as the archive keeps it: no userinfo, no fragment, and no query
 * parameter that carries a credential (named after one, as signed links and
 * tokens are); the rest as the resource holds it.
 */
export function archivedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  for (const name of [...parsed.searchParams.keys()])
    if (secretParameter.test(name)) parsed.searchParams.delete(name);
  return parsed.href;
}

/** The owner as the API and the operator's queue read it: the owner label, else the namespace. */
export function ownerOfDownload(download: VideoDownload): string {
  return download.metadata.labels?.[labels.owner] ?? `namespace:${download.metadata.namespace}`;
}

/** The row of a finished download; undefined while it has not finished (nothing to archive yet). */
export function archivedDownload(download: VideoDownload): ArchivedDownload | undefined {
  const { status, metadata } = download;
  const phase = status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const result = phase === 'Succeeded' ? status?.result : undefined;
  const url = archivedUrl(download.spec.url);
  const text = (value: string | undefined) => (value === undefined ? null : storedText(value));
  const finishedAt = status?.completionTime ?? metadata.creationTimestamp ?? new Date(0).toISOString();
  return {
    uid: metadata.uid as string,
    namespace: metadata.namespace as string,
    name: metadata.name as string,
    owner: storedText(ownerOfDownload(download)),
    url: storedText(url),
    extractor: null,
    title: text(result?.title ?? status?.progress?.title),
    state: phase === 'Succeeded' ? 'DONE' : 'FAILED',
    reason: text(status?.reason),
    size: result?.size ?? null,
    sha256: result?.sha256 ?? null,
    bucket: result?.bucket ?? null,
    objectKey: text(result?.key),
    volumeClaim: result?.volume?.claimName ?? null,
    volumePath: text(result?.volume?.path),
    collection: null,
    attempts: status?.attempts ?? 0,
    createdAt: metadata.creationTimestamp ?? finishedAt,
    startedAt: status?.startTime ?? null,
    finishedAt,
    // JSON escapes NUL and lone surrogates: the text column holds any resource exactly.
    record: JSON.stringify({
      metadata: {
        name: metadata.name,
        namespace: metadata.namespace,
        uid: metadata.uid,
        creationTimestamp: metadata.creationTimestamp,
        labels: metadata.labels,
      },
      spec: {
        ...download.spec,
        url,
        ...(download.spec.notify && {
          notify: { ...download.spec.notify, url: archivedUrl(download.spec.notify.url) },
        }),
      },
      status,
    }),
  };
}
