// Who is calling and what they may see: the caller an API key or a stream
// ticket names, and the one lookup every per-download route goes through.
import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { labels, type VideoDownload } from '../crds/video-download.ts';
import { archivedByName } from '../lib/archive/archive-store.ts';
import type { Informer } from '../lib/kube/informer.ts';
import type { ApiKeyStore, Caller } from './api-keys.ts';
import { problems } from './problem.ts';
import { JobId } from './schemas.ts';
import { streamCaller } from './tickets.ts';

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export const anonymous: Caller = { user: 'anonymous', role: 'admin' };

/** The caller of a request past authenticate(). */
export function callerOf(req: Request): Caller {
  return req.caller as Caller;
}

export function visibleTo(download: VideoDownload, caller: Caller): boolean {
  return caller.role === 'admin' || download.metadata.labels?.[labels.owner] === caller.user;
}

/** The caller's download of that name from the cache; someone else's is "not found", so ids do not leak across users. */
export function findVisible(
  downloads: Pick<Informer<VideoDownload>, 'get'>,
  namespace: string,
  name: string,
  caller: Caller,
): VideoDownload {
  if (!JobId.safeParse(name).success) throw problems.notFound(`job ${JSON.stringify(name).slice(0, 80)}`);
  const download = downloads.get(`${namespace}/${name}`);
  if (!download || !visibleTo(download, caller)) throw problems.notFound(`job ${name}`);
  return download;
}

const eventsPath = /^\/status\/[^/]+\/events$/;

/** Names the caller of every request that passes it, or answers 401. */
export function authenticate(deps: { noAuth: boolean; keys: ApiKeyStore; ticketKey: Buffer }) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (deps.noAuth) req.caller = anonymous;
    else {
      // A ticket (POST /tickets) opens event streams only: browsers' EventSource cannot send a header.
      const ticket =
        req.method === 'GET' && eventsPath.test(req.path) && typeof req.query.ticket === 'string'
          ? req.query.ticket
          : undefined;
      const credential = streamCaller(
        deps.keys,
        deps.ticketKey,
        req.get('authorization'),
        ticket,
        Date.now(),
      );
      if (!credential) return next(problems.unauthorized());
      req.caller = credential.caller;
      // Revoking the key ends the request, above all a long-lived event stream.
      res.on(
        'close',
        deps.keys.holdWhile(credential.check, credential.caller, () => res.destroy()),
      );
    }
    next();
  };
}

/**
 * The caller's download of that name: live from the cache, else, once it is
 * gone from the cluster, as the archive recorded it. Someone else's is "not
 * found" either way.
 */
export async function findVisibleOrArchived(
  deps: { downloads: Pick<Informer<VideoDownload>, 'get'>; archive?: pg.Pool | undefined },
  namespace: string,
  name: string,
  caller: Caller,
): Promise<{ download: VideoDownload; archived: boolean }> {
  try {
    return { download: findVisible(deps.downloads, namespace, name, caller), archived: false };
  } catch (error) {
    if (!deps.archive) throw error;
    const owner = caller.role === 'admin' ? undefined : caller.user;
    const row = await readArchive(() => archivedByName(deps.archive as pg.Pool, owner, name, namespace));
    if (!row) throw error;
    return { download: row.record as VideoDownload, archived: true };
  }
}

/** An archive read; a database that cannot answer is a 503 saying so, not a 500. */
export async function readArchive<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw problems.unavailable(
      `the archive cannot be read now (${(error as { code?: string }).code ?? 'unreachable'}); live downloads are still answered`,
    );
  }
}
