// The archive's reads and writes, with bound parameters only: a title or URL
// holding SQL is data, never a statement. Rows come and go in the form of
// archive-record.ts; text is turned back with stored-text.ts.
import pg from 'pg';
import type { ArchivedDownload } from './archive-record.ts';
import { containsPattern, storedText, textFromStored } from './stored-text.ts';

/**
 * A pool with the timeouts a shared database wants: no statement or
 * connection attempt waits for ever. An idle connection that breaks (the
 * server restarted, say) is reported, by its message and code only (a pg
 * error carries the connection's password), and never crashes the process.
 */
export function archivePool(
  connectionString: string,
  options: { max?: number; onError?: (message: string) => void } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 5,
    statement_timeout: 5_000,
    query_timeout: 6_000,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'vdl',
  });
  pool.on('error', (error: Error & { code?: string }) =>
    options.onError?.(`${error.code ? `${error.code}: ` : ''}${error.message}`),
  );
  return pool;
}

const columns = [
  'uid',
  'namespace',
  'name',
  'owner',
  'url',
  'extractor',
  'title',
  'state',
  'reason',
  'size',
  'sha256',
  'bucket',
  'object_key',
  'volume_claim',
  'volume_path',
  'collection',
  'attempts',
  'created_at',
  'started_at',
  'finished_at',
  'record',
] as const;

function values(row: ArchivedDownload): unknown[] {
  return [
    row.uid,
    row.namespace,
    row.name,
    row.owner,
    row.url,
    row.extractor,
    row.title,
    row.state,
    row.reason,
    row.size,
    row.sha256,
    row.bucket,
    row.objectKey,
    row.volumeClaim,
    row.volumePath,
    row.collection,
    row.attempts,
    row.createdAt,
    row.startedAt,
    row.finishedAt,
    row.record,
  ];
}

/**
 * Writes the rows not archived yet (by uid) in one statement; the uids
 * written now. A row already there is left as it was: archiving again after a
 * restart or by a second leader writes nothing.
 */
export async function archiveDownloads(
  pool: pg.Pool | pg.ClientBase,
  rows: ArchivedDownload[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const placeholders = rows.map(
    (_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`,
  );
  const result = await pool.query<{ uid: string }>(
    `INSERT INTO vdl_archived_downloads (${columns.join(', ')}) VALUES ${placeholders.join(', ')}
     ON CONFLICT (uid) DO NOTHING RETURNING uid`,
    rows.flatMap(values),
  );
  return result.rows.map((row) => row.uid);
}

/** Which of these uids the archive holds. */
export async function archivedUids(pool: pg.Pool | pg.ClientBase, uids: string[]): Promise<Set<string>> {
  if (uids.length === 0) return new Set();
  const result = await pool.query<{ uid: string }>(
    'SELECT uid FROM vdl_archived_downloads WHERE uid = ANY($1::uuid[])',
    [uids],
  );
  return new Set(result.rows.map((row) => row.uid));
}

/** An archived download as read back: its text turned back, its resource parsed. */
export interface ArchivedView {
  uid: string;
  name: string;
  owner: string;
  url: string;
  title: string | undefined;
  state: 'DONE' | 'FAILED';
  createdAt: Date;
  finishedAt: Date;
  record: unknown;
}

interface Row {
  uid: string;
  name: string;
  owner: string;
  url: string;
  title: string | null;
  state: 'DONE' | 'FAILED';
  created_at: Date;
  finished_at: Date;
  record: string;
}

function view(row: Row): ArchivedView {
  return {
    uid: row.uid,
    name: row.name,
    owner: textFromStored(row.owner),
    url: textFromStored(row.url),
    title: row.title === null ? undefined : textFromStored(row.title),
    state: row.state,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    record: JSON.parse(row.record),
  };
}

const selected = 'uid, name, owner, url, title, state, created_at, finished_at, record';

/** The newest archived download of this owner with this name (a name is reused once a download is gone). */
export async function archivedByName(
  pool: pg.Pool | pg.ClientBase,
  owner: string | undefined,
  name: string,
  namespace?: string,
): Promise<ArchivedView | undefined> {
  // owner undefined: anyone's (an admin's lookup); namespace undefined: any namespace's.
  const result = await pool.query<Row>(
    `SELECT ${selected} FROM vdl_archived_downloads
     WHERE name = $2 AND ($1::text IS NULL OR owner = $1) AND ($3::text IS NULL OR namespace = $3)
     ORDER BY created_at DESC LIMIT 1`,
    [owner === undefined ? null : storedText(owner), name, namespace ?? null],
  );
  return result.rows[0] && view(result.rows[0]);
}

export interface ArchiveQuery {
  /** One owner's rows; undefined: everyone's (an admin). */
  owner?: string | undefined;
  /** One namespace's rows (the API's); undefined: every namespace's. */
  namespace?: string | undefined;
  state?: 'DONE' | 'FAILED' | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  /** Found anywhere in the title or the URL, case-insensitively. */
  text?: string | undefined;
  /** Rows after this one in newest-first order, (created, name) then: a page's cursor. */
  after?: { createdAt: Date; name: string } | undefined;
  /** Downloads still live (listed from the cluster instead). */
  excludeUids?: string[] | undefined;
  limit: number;
}

/** Archived downloads, newest first (by creation, then name, as the live list), filtered; at most limit. */
export async function listArchived(
  pool: pg.Pool | pg.ClientBase,
  query: ArchiveQuery,
): Promise<ArchivedView[]> {
  const where: string[] = [];
  const parameters: unknown[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    parameters.push(value);
    where.push(clause(`$${parameters.length}`));
  };
  if (query.owner !== undefined) add((n) => `owner = ${n}`, storedText(query.owner));
  if (query.namespace !== undefined) add((n) => `namespace = ${n}`, query.namespace);
  if (query.state) add((n) => `state = ${n}`, query.state);
  if (query.from) add((n) => `created_at >= ${n}`, query.from);
  if (query.to) add((n) => `created_at < ${n}`, query.to);
  if (query.text) add((n) => `(title ILIKE ${n} OR url ILIKE ${n})`, containsPattern(query.text));
  if (query.excludeUids?.length) add((n) => `uid <> ALL(${n}::uuid[])`, query.excludeUids);
  if (query.after) {
    parameters.push(query.after.createdAt, query.after.name);
    where.push(
      `(created_at, name COLLATE "C") < ($${parameters.length - 1}, $${parameters.length} COLLATE "C")`,
    );
  }
  parameters.push(query.limit);
  const result = await pool.query<Row>(
    `SELECT ${selected} FROM vdl_archived_downloads ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, name COLLATE "C" DESC LIMIT $${parameters.length}`,
    parameters,
  );
  return result.rows.map(view);
}

/**
 * Deletes rows of downloads that finished before cutoff, batch rows per
 * statement (a long DELETE would hold locks and bloat one transaction);
 * how many went.
 */
export async function deleteArchivedBefore(
  pool: pg.Pool | pg.ClientBase,
  cutoff: Date,
  batch = 1_000,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const result = await pool.query(
      `DELETE FROM vdl_archived_downloads WHERE uid IN (
         SELECT uid FROM vdl_archived_downloads WHERE finished_at < $1 ORDER BY finished_at LIMIT $2)`,
      [cutoff, batch],
    );
    deleted += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < batch) return deleted;
  }
}

/** Deletes every row of one owner (a user's "forget my history"), except downloads still live; how many went. */
export async function forgetOwner(
  pool: pg.Pool | pg.ClientBase,
  owner: string,
  liveUids: string[],
  namespace?: string,
): Promise<number> {
  const result = await pool.query(
    `DELETE FROM vdl_archived_downloads
     WHERE owner = $1 AND uid <> ALL($2::uuid[]) AND ($3::text IS NULL OR namespace = $3)`,
    [storedText(owner), liveUids, namespace ?? null],
  );
  return result.rowCount ?? 0;
}
