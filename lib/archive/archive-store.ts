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
  owner: string,
  name: string,
): Promise<ArchivedView | undefined> {
  const result = await pool.query<Row>(
    `SELECT ${selected} FROM vdl_archived_downloads WHERE owner = $1 AND name = $2
     ORDER BY created_at DESC LIMIT 1`,
    [storedText(owner), name],
  );
  return result.rows[0] && view(result.rows[0]);
}

export interface ArchiveQuery {
  owner: string;
  state?: 'DONE' | 'FAILED';
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  /** Found anywhere in the title or the URL, case-insensitively. */
  text?: string;
  /** Rows after this one in newest-first order (a page's cursor). */
  after?: { createdAt: Date; uid: string };
  limit: number;
}

/** One owner's archived downloads, newest first, filtered; at most limit. */
export async function listArchived(
  pool: pg.Pool | pg.ClientBase,
  query: ArchiveQuery,
): Promise<ArchivedView[]> {
  const where = ['owner = $1'];
  const parameters: unknown[] = [storedText(query.owner)];
  const add = (clause: (n: string) => string, value: unknown) => {
    parameters.push(value);
    where.push(clause(`$${parameters.length}`));
  };
  if (query.state) add((n) => `state = ${n}`, query.state);
  if (query.from) add((n) => `created_at >= ${n}`, query.from);
  if (query.to) add((n) => `created_at < ${n}`, query.to);
  if (query.text) add((n) => `(title ILIKE ${n} OR url ILIKE ${n})`, containsPattern(query.text));
  if (query.after) {
    parameters.push(query.after.createdAt, query.after.uid);
    where.push(`(created_at, uid) < ($${parameters.length - 1}, $${parameters.length}::uuid)`);
  }
  parameters.push(query.limit);
  const result = await pool.query<Row>(
    `SELECT ${selected} FROM vdl_archived_downloads WHERE ${where.join(' AND ')}
     ORDER BY created_at DESC, uid DESC LIMIT $${parameters.length}`,
    parameters,
  );
  return result.rows.map(view);
}
